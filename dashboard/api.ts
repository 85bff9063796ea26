// The page's HTTP calls: same origin, the session cookie rides along by itself; errors come back as the
// server's {error: {code, message}} shape, so pages show the server's own words.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Raised on a 401 anywhere: the app shows the sign-in page. */
export const signedOut = new EventTarget();

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
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
