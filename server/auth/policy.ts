// Who may act on what: everyone sees every request and cluster; a user changes only their own
// requests, clusters and jobs, an admin anyone's. A refusal is a 403 that says whose it is.
import type { User } from '../../protocol/model';
import { fail } from '../errors';
import type { Principal } from './identity';

export function mayActOn(caller: Principal, owner: User): boolean {
  return caller.role === 'admin' || caller.user.id === owner.id;
}

/** Throws 403 unless the caller owns `what` or is an admin; `action` reads "cancel", "tear down", ... */
export function requireOwner(caller: Principal, owner: User, action: string, what: string): void {
  if (mayActOn(caller, owner)) return;
  throw fail.forbidden(`${what} belongs to ${owner.name} (${owner.id}); only they or an admin may ${action} it (you are ${caller.user.name}, role ${caller.role})`);
}

export function requireAdmin(caller: Principal, action: string): void {
  if (caller.role === 'admin') return;
  throw fail.forbidden(`only an admin may ${action} (you are ${caller.user.name}, role ${caller.role})`);
}
