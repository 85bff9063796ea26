// Typed errors a client can meet; the CLI prints `Error: <message>` for every one of them, never a stack.

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

/** The server answered with an error (`{error: {code, message, details}}`). */
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
