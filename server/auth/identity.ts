// Who is calling: the Principal every route and operation sees, and the Authenticator that finds it.
// A local server takes the identity the client claims in headers (once it has shown the local token);
// a team server ignores claims and uses the account the credentials belong to.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { USER_ID, USER_ID_HEADER, USER_NAME_HEADER, type HealthResponse } from '../../protocol/api';
import type { User } from '../../protocol/model';
import { fail } from '../errors';

export type Role = 'admin' | 'user';

export interface Principal {
  user: User;
  role: Role;
  /**
   * Showed the local token: the OS user the server runs as, whose tasks may name this machine's paths.
   * Everyone else (every caller of a team server) names only uploads they sent.
   */
  localOwner?: boolean;
}

export interface Authenticator {
  readonly mode: HealthResponse['auth'];
  /** The caller, or a SkyDeckError (401 when credentials are missing or wrong, 429 when guessing). */
  authenticate(req: IncomingMessage): Principal | Promise<Principal>;
}

/** Anyone who does not say who they are. */
export const ANONYMOUS: User = { id: '00000000', name: 'anonymous' };

/** Names are shown in tables and logs: printable, no control characters, bounded. */
const USER_NAME = /^[\p{L}\p{N} ._@-]{1,64}$/u;

export function claimedUser(headers: IncomingHttpHeaders): User {
  const id = headers[USER_ID_HEADER];
  const name = headers[USER_NAME_HEADER];
  if (id === undefined && name === undefined) return ANONYMOUS;
  if (typeof id !== 'string' || !USER_ID.test(id)) throw fail.bad_request(`${USER_ID_HEADER} must be 8 lowercase hex digits`);
  if (typeof name !== 'string' || !USER_NAME.test(decodeName(name))) throw fail.bad_request(`${USER_NAME_HEADER} must be 1-64 letters, digits, spaces or . _ @ -`);
  return { id, name: decodeName(name) };
}

/** Clients send names that are not plain ASCII percent-encoded (header values are ASCII). */
function decodeName(name: string): string {
  if (!name.includes('%')) return name;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
