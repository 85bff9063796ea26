// The page's HTTP calls: same origin, below the server's root as the page reached it (ROOT), the session
// cookie riding along by itself; errors come back as the server's {error: {code, message}} shape, so pages
// show the server's own words.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The server's root as this page reached it: `/` directly, `/proxy/PORT/` through code-server's proxy. The
 * server writes the way back from the page (data-root, relative); every API, WebSocket and page path starts here.
 */
export const ROOT = new URL(document.body.dataset.root ?? '/', location.href).pathname;

/** An API path of the server (`/api/...`), as this page reaches it. */
export const apiPath = (path: string) => ROOT + path.replace(/^\//, '');

/** Raised on a 401 anywhere: the app shows the sign-in page. */
export const signedOut = new EventTarget();

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(apiPath(path), {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(response.status, 'bad_response', `HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    const err = new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? `HTTP ${response.status}`);
    if (response.status === 401 && path !== '/api/sessions') signedOut.dispatchEvent(new Event('signed-out'));
    throw err;
  }
  return parsed as T;
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
