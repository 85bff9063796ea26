// The browser URL of a request's log stream. For the local server it carries a signature made from the
// local token, which opens that one log until it expires (the page forwards it); a team server's
// browser asks for a login.
import { STREAM_LINK_TTL_SECONDS, streamSignature } from '../../shared/stream-signature';
import type { Endpoint } from '../endpoint';

export function streamLink(endpoint: Endpoint, requestId: string, now = Date.now()): string {
  const url = `${endpoint.url}/api/stream?request_id=${encodeURIComponent(requestId)}`;
  const bearer = endpoint.localSocket && endpoint.authorization?.startsWith('Bearer ') ? endpoint.authorization.slice(7) : undefined;
  if (!bearer) return url;
  const expires = Math.floor(now / 1000) + STREAM_LINK_TTL_SECONDS;
  return `${url}&expires=${expires}&sig=${streamSignature(bearer, requestId, expires)}`;
}
