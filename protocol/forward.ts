// The port-forward WebSocket (`GET /api/forward`): one TCP connection to a port a cluster declared
// (`resources.ports`), made by the server to the cluster's head node, per WebSocket. A client's local
// listener opens one socket per connection it accepts, so each connection has its own backpressure (a
// slow download never holds up another) and ends as TCP does, without a multiplexing protocol.
// The connection's bytes travel as binary frames both ways; text frames carry the control messages below.
// A refused upgrade answers with an HTTP status and a one-line reason (unknown cluster 404, not the
// owner 403, cluster not UP 409, a port the cluster did not declare 400), as the terminal does.
import * as z from 'zod';

export const FORWARD_PATH = '/api/forward';

/** The query string that opens a forwarded connection. */
export const forwardQuery = z.object({
  cluster: z.string().min(1).max(63),
  /** One of the cluster's declared ports. */
  port: z.coerce.number().int().min(1).max(65535),
  /**
   * `1` only checks that the forward would be allowed: the server makes every check above, then completes
   * the handshake and closes it (`done`) without connecting to the endpoint. A client asks before it
   * listens, so a refusal is said at once rather than at the first connection.
   */
  check: z.literal('1').optional(),
});
export type ForwardQuery = z.input<typeof forwardQuery>;

/**
 * Both directions: `eof` says the sender's side of the TCP connection has ended (a FIN); the other side
 * ends its writing half and may still answer, as TCP's half-close allows.
 */
export const forwardClientMessage = z.discriminatedUnion('type', [z.object({ type: z.literal('eof') })]);
export type ForwardClientMessage = z.infer<typeof forwardClientMessage>;

export type ForwardServerMessage =
  /** The server's connection to the endpoint is open; bytes written before this are held, then sent in order. */
  | { type: 'connected'; cluster: string; port: number; host: string }
  | { type: 'eof' };

/** How a forwarded connection ends: the WebSocket close code, with a one-line reason. */
export const FORWARD_CLOSE = {
  /** The TCP connection ended (either side closed it). */
  done: 1000,
  /** The API server is shutting down. */
  shutdown: 1001,
  /** A text frame that is not a known control message. */
  badMessage: 4400,
  /** The cluster was torn down or stopped: its forwards end, and the client's listener with them. */
  clusterEnded: 4409,
  /** The server could not connect to the endpoint (nothing listens on the port yet, the node is unreachable). */
  connectFailed: 4502,
  /** The connection to the endpoint failed after it was open (reset, timed out). */
  endpointError: 4504,
} as const;

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return bytes.length <= 123 ? text : `${new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD+$/, '')}...`;
}
