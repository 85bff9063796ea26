// Expected errors: thrown anywhere in the server, shaped into `{error: {code, message}}` by one middleware.

export class HttpError extends Error {
  /** Expected errors are shown to the client as they are; unexpected ones become a generic 500. */
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);

/** A 400 from schema issues: a readable message plus `details` with each key path, for clients to point at. */
export function invalidBody(what: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): HttpError {
  const details = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const isTask = details.some((d) => d.path === 'task' || d.path.startsWith('task.'));
  const message = details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ');
  return new HttpError(400, isTask ? 'task_invalid' : 'bad_request', `invalid ${what}: ${message}`, details);
}
