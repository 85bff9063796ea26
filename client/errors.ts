// Typed errors a client can meet; the CLI prints `Error: <message>` for every one of them, never a stack.
import type { ErrorCode } from '../protocol/errors';
import type { TaskIssue } from '../protocol/task-issues';

/** Something went wrong on the client's side of the wire (bad config, no local server to stop, ...). */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * The server answered with an error (an ErrorResponse). `code` is from the catalogue
 * (protocol/errors.ts), or `http_<status>` when something other than a SkyDeck server answered.
 */
export class ApiError extends ClientError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(code, message);
    this.name = 'ApiError';
  }
}

/** Nothing answered at the endpoint, or the connection broke mid-way. */
export class ConnectionError extends ClientError {
  constructor(
    readonly url: string,
    readonly cause?: Error,
  ) {
    super('unreachable', `cannot reach the SkyDeck API server at ${url}${cause ? ` (${describeCause(cause)})` : ''}`);
    this.name = 'ConnectionError';
  }
}

function describeCause(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? err.message;
}

/** Whether the error is the server's answer with this code. */
export function isApiError(err: unknown, code: ErrorCode): err is ApiError {
  return err instanceof ApiError && err.code === code;
}

/**
 * The task issues of a server's `task_invalid` answer, with paths relative to the task
 * (`resources.cpus`), for pointing at keys and lines; undefined for any other error.
 */
export function taskIssues(err: unknown): TaskIssue[] | undefined {
  if (!isApiError(err, 'task_invalid')) return undefined;
  const issues = (Array.isArray(err.details) ? (err.details as Partial<TaskIssue>[]) : []).filter(
    (d): d is TaskIssue => typeof d?.path === 'string' && typeof d.message === 'string',
  );
  if (issues.length === 0) return [{ path: '', message: err.message }];
  return issues.map((i) => ({ ...i, path: i.path === 'task' ? '' : i.path.replace(/^task\./, '') }));
}
