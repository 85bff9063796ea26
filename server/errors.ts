// The server's errors: a code from the catalogue (protocol/errors.ts), a message for people and typed
// details. Thrown anywhere in the server; only server/http/ turns a code into an HTTP status, and the
// executor records the same code as a failed request's `error.type`.
import type { ErrorCode, ErrorDetails, FieldIssue } from '../protocol/errors';
import type { LaunchResult } from '../protocol/api';
import { ERROR_CODES } from '../protocol/errors';

export class SkyDeckError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details?: ErrorDetails<C>,
    /** What a failed request still reports (a job that ran and exited non-zero). */
    readonly result?: LaunchResult,
  ) {
    super(message);
    this.name = 'SkyDeckError';
  }
}

/** `instanceof` with the code's type kept (plain `instanceof` on a generic class loses it). */
export function isSkyDeckError(err: unknown): err is SkyDeckError {
  return err instanceof SkyDeckError;
}

type Factory<C extends ErrorCode> = [ErrorDetails<C>] extends [never]
  ? (message: string) => SkyDeckError<C>
  : (message: string, details?: ErrorDetails<C>) => SkyDeckError<C>;

/** One named factory per code: `throw fail.not_found(\`cluster ${name} does not exist\`)`. */
export const fail = Object.fromEntries(
  Object.keys(ERROR_CODES).map((code) => [code, (message: string, details?: unknown) => new SkyDeckError(code as ErrorCode, message, details as never)]),
) as { readonly [C in ErrorCode]: Factory<C> };

/** A failed job: the request fails with the job's outcome as its result. */
export function jobFailed(code: 'job_failed' | 'job_cancelled', message: string, result: LaunchResult): SkyDeckError {
  return new SkyDeckError(code, message, undefined, result);
}

/** Schema issues as a `bad_request` (or `task_invalid` when they are in the task) naming each key path. */
export function invalidBody(what: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): SkyDeckError {
  const details: FieldIssue[] = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const isTask = details.some((d) => d.path === 'task' || d.path.startsWith('task.'));
  const message = details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ');
  return isTask ? fail.task_invalid(`invalid ${what}: ${message}`, details) : fail.bad_request(`invalid ${what}: ${message}`, details);
}
