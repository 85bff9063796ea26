// The signed browser link to one request's log on the local server: what it carries instead of the
// token, made by the client from the token it holds and checked by the server. The expiry is signed
// too, so a link that leaked (history, a shared screen) stops working.
import { createHmac } from 'node:crypto';

/** How long a link the CLI prints keeps working. */
export const STREAM_LINK_TTL_SECONDS = 12 * 3600;

/** `expires` is in Unix seconds. */
export function streamSignature(token: string, requestId: string, expires: number): string {
  return createHmac('sha256', token).update(`stream:${requestId}:${expires}`).digest('base64url');
}
