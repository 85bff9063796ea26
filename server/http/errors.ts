// The one place a server error becomes an HTTP answer: its code's status from the catalogue and the
// ErrorResponse body. Koa's own expected errors (a 405 from the router, ...) get the code of their
// status; anything else is logged and answered with a generic 500 (no stack trace leaves the server).
import type { Middleware } from 'koa';
import { ERROR_CODES, type ErrorCode, type ErrorResponse } from '../../protocol/errors';
import { fail, SkyDeckError } from '../errors';

export function errorMiddleware(logError: (err: unknown) => void): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw fail.not_found(`no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const known = asSkyDeckError(err);
      if (!known) logError(err);
      const answer = known ?? fail.internal('internal server error; see the server log');
      ctx.status = httpStatus(answer);
      const body: ErrorResponse = { error: { code: answer.code, message: answer.message, ...(answer.details !== undefined ? { details: answer.details } : {}) } };
      ctx.body = body;
    }
  };
}

export function httpStatus(err: SkyDeckError): number {
  return ERROR_CODES[err.code].status;
}

/** The error as one of ours: SkyDeckErrors as they are, Koa's exposed 4xx errors by their status. */
export function asSkyDeckError(err: unknown): SkyDeckError | undefined {
  if (err instanceof SkyDeckError) return err;
  const e = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (e?.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new SkyDeckError(codeForStatus(e.status), typeof e.message === 'string' ? e.message : 'bad request');
  }
  return undefined;
}

function codeForStatus(status: number): ErrorCode {
  const generic: Record<number, ErrorCode> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 408: 'request_timeout', 409: 'conflict', 413: 'body_too_large', 415: 'unsupported_media_type' };
  return generic[status] ?? 'bad_request';
}
