// The browser URL of a request's log stream. For the local server it carries a signature made from the
// local token, which opens that one log (the page forwards it); a team server's browser asks for a login.
import type { Endpoint } from '../endpoint';
import { streamSignature } from './local-token';

export function streamLink(endpoint: Endpoint, requestId: string): string {
  const url = `${endpoint.url}/api/stream?request_id=${encodeURIComponent(requestId)}`;
  const bearer = endpoint.local && endpoint.authorization?.startsWith('Bearer ') ? endpoint.authorization.slice(7) : undefined;
  return bearer ? `${url}&sig=${streamSignature(bearer, requestId)}` : url;
}
