// A small HTTP layer over node:http(s): JSON calls, streamed bodies, and errors mapped to ApiError/ConnectionError.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiError, ConnectionError } from './errors';

export interface HttpCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A body sent as it is, instead of JSON. */
  raw?: { contentType: string; data: Buffer };
  headers?: Record<string, string>;
  /** Give up when no answer has started after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class HttpTransport {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  constructor(
    /** Base URL without credentials, such as `http://127.0.0.1:46590`. */
    readonly baseUrl: string,
    private readonly defaultHeaders: Record<string, string>,
    /** Connect here instead of the URL's host and port (the local server's Unix socket). */
    private readonly socketPath?: string,
  ) {
    this.secure = baseUrl.startsWith('https:');
    // Keep-alive lets a command's submit, stream and result share one connection; idle sockets do not
    // keep the process alive.
    this.agent = this.secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  url(path: string, query?: HttpCall['query']): URL {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== false) url.searchParams.set(k, v === true ? '1' : String(v));
    return url;
  }

  /** Sends a call and resolves with the response once its head arrives; a 4xx/5xx becomes an ApiError. */
  async open(call: HttpCall): Promise<IncomingMessage> {
    let response: IncomingMessage | undefined;
    while (!response) {
      try {
        response = await this.send(call);
      } catch (err) {
        // A kept-alive connection the server closed for idleness while this process could not notice (its
        // event loop held up past the server's keep-alive timeout, a laptop asleep) fails the next call
        // before any answer. A GET is safe to send again: on the next pooled connection, which may be
        // stale too (each try drops one), else on a new one. A submit has its own retry (ApiClient.submit).
        if (!(err instanceof StaleConnectionError)) throw err;
        if (call.method !== 'GET') throw err.connectionError;
      }
    }
    if (response.statusCode !== undefined && response.statusCode >= 400) {
      throw await toApiError(response);
    }
    return response;
  }

  private async send(call: HttpCall): Promise<IncomingMessage> {
    const url = this.url(call.path, call.query);
    const payload = call.raw?.data ?? (call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body)));
    const headers: Record<string, string> = { ...this.defaultHeaders, ...call.headers };
    if (payload) {
      headers['content-type'] = call.raw?.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise<IncomingMessage>((resolve, reject) => {
      const send = this.secure ? httpsRequest : httpRequest;
      const req = send(url, { method: call.method, headers, agent: this.agent, signal: call.signal, socketPath: this.socketPath });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        req.setTimeout(0);
        resolve(res);
      });
      req.on('error', (err) => {
        if (isAbort(err)) return reject(err);
        const connectionError = new ConnectionError(this.baseUrl, err);
        reject(!answered && req.reusedSocket && closedByPeer(err) ? new StaleConnectionError(connectionError) : connectionError);
      });
      if (call.timeoutMs) {
        req.setTimeout(call.timeoutMs, () => {
          if (!answered) req.destroy(Object.assign(new Error(`no answer within ${call.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
        });
      }
      req.end(payload);
    });
  }

  /** A whole JSON call. */
  async json<T>(call: HttpCall): Promise<T> {
    const response = await this.open(call);
    const text = await readAll(response, this.baseUrl);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.statusCode ?? 0, 'bad_response', `the server sent a response that is not JSON for ${call.method} ${call.path}`);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A call that failed on a reused kept-alive connection the server had closed, before any answer. */
class StaleConnectionError extends Error {
  constructor(readonly connectionError: ConnectionError) {
    super(connectionError.message);
  }
}

function closedByPeer(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE';
}

export function isAbort(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'AbortError';
}

async function readAll(response: IncomingMessage, baseUrl: string): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch (err) {
    throw isAbort(err) ? err : new ConnectionError(baseUrl, err as Error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function toApiError(response: IncomingMessage): Promise<ApiError> {
  const status = response.statusCode ?? 0;
  let text = '';
  try {
    text = await readAll(response, '');
  } catch {
    // The status alone still says what happened.
  }
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      return new ApiError(status, typeof parsed.error.code === 'string' ? parsed.error.code : 'error', parsed.error.message, parsed.error.details);
    }
  } catch {
    // Not our JSON error shape: a proxy or another program answered.
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(status, `http_${status}`, `HTTP ${status} ${response.statusMessage ?? ''}${snippet ? `: ${snippet}` : ''}`.trim());
}
