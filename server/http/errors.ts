// The one error middleware: expected errors become {error: {code, message}} with their status;
// anything else is logged and answered with a generic 500 (no stack trace leaves the server).
import type { Middleware } from 'koa';
import { HttpError } from '../http-error';

export function errorMiddleware(logError: (err: unknown) => void): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; code?: string; message?: string; details?: unknown };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (err instanceof HttpError || (e.expose && status < 500)) {
        ctx.status = status;
        ctx.body = { error: { code: err instanceof HttpError ? err.code : codeFor(status), message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } };
      } else {
        logError(err);
        ctx.status = 500;
        ctx.body = { error: { code: 'internal', message: 'internal server error; see the server log' } };
      }
    }
  };
}

function codeFor(status: number): string {
  return { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 413: 'body_too_large', 415: 'unsupported_media_type' }[status] ?? 'error';
}
