// Which requests one cancel call covers, and who may: the ids given (each owned by the caller, or the
// caller is an admin), or with `all` every live request of the caller, or of everyone for an admin.
import type { CancelBody } from '../../protocol/api';
import type { Principal } from '../auth/identity';
import { requireAdmin, requireOwner } from '../auth/policy';
import type { RequestStore } from '../store/request-store';

export function requestsToCancel(requests: RequestStore, body: CancelBody, caller: Principal): string[] {
  if ('all' in body) {
    if (body.allUsers === true) requireAdmin(caller, "cancel everyone's requests");
    return requests
      .live()
      .filter((r) => body.allUsers === true || r.user.id === caller.user.id)
      .map((r) => r.id);
  }
  const ids = body.requestIds.map((p) => requests.resolveId(p));
  for (const id of ids) requireOwner(caller, requests.get(id)!.user, 'cancel', `request ${id.slice(0, 8)}`);
  return ids;
}
