// Request commands: View Logs, Show Request Details, Cancel (one, several, or by quick pick), view filters.
import * as vscode from 'vscode';
import type { RequestSummary } from '../../protocol/model';
import { relativeTime, requestIcon, requestLabel, shortId } from '../format';
import { setContext } from '../context-keys';
import type { Services } from '../services';
import type { RequestFilter, RequestGrouping } from '../model/requests-model';
import { connectedClient, showApiError } from './api';

/** A row of the Requests view passes its id; the Request details panel passes `{id}`. */
export type RequestRef = string | { id: string };
const refId = (ref: RequestRef): string => (typeof ref === 'string' ? ref : ref.id);

interface RequestPickItem extends vscode.QuickPickItem {
  request: RequestSummary;
}

function pickItem(s: Services, r: RequestSummary): RequestPickItem {
  const mine = s.requests.isMine(r);
  return {
    label: `$(${requestIcon(r.status).id}) ${requestLabel(r)}`,
    description: `${r.status} · ${shortId(r.id)}`,
    detail: `${mine ? 'me' : r.user.name} · ${relativeTime(r.createdAt, Date.now())}`,
    request: r,
  };
}

async function resolve(s: Services, ref: RequestRef | undefined, title: string): Promise<RequestSummary | undefined> {
  if (ref !== undefined) {
    const id = refId(ref);
    return s.requests.get(id) ?? { id, name: 'request', status: 'RUNNING', user: { id: '', name: '' }, schedule: 'long', createdAt: Date.now() };
  }
  const requests = [...s.requests.ongoing(), ...s.requests.all().filter((r) => r.status !== 'PENDING' && r.status !== 'RUNNING')];
  if (requests.length === 0) {
    void vscode.window.showInformationMessage('SkyDeck: there are no requests yet.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(requests.map((r) => pickItem(s, r)), { title, matchOnDescription: true, matchOnDetail: true });
  return pick?.request;
}

export async function viewLogs(s: Services, ref?: RequestRef): Promise<void> {
  const request = await resolve(s, ref, 'SkyDeck: View Logs');
  if (request) s.logs.show(request, { preserveFocus: false });
}

export async function showRequestDetails(s: Services, ref?: RequestRef): Promise<void> {
  const request = await resolve(s, ref, 'SkyDeck: Request Details');
  if (request) await s.panels.showRequest(request.id);
}

/**
 * Cancel from a row (VS Code passes the clicked row and the selected rows) or from the panel.
 * Asks first when cancelling several requests or someone else's.
 */
export async function cancelFromView(s: Services, ref?: RequestRef, selected?: RequestRef[]): Promise<void> {
  if (ref === undefined) return cancelByPick(s);
  const ids = selected && selected.length > 1 ? selected.map(refId) : [refId(ref)];
  const requests = ids.map((id) => s.requests.get(id)).filter((r): r is RequestSummary => r !== undefined && (r.status === 'PENDING' || r.status === 'RUNNING'));
  await cancel(s, requests.length > 0 ? requests : ids.map((id) => s.requests.get(id) ?? ({ id } as RequestSummary)));
}

export async function cancelByPick(s: Services): Promise<void> {
  const ongoing = s.requests.ongoing();
  if (ongoing.length === 0) {
    void vscode.window.showInformationMessage('SkyDeck: no request is pending or running.');
    return;
  }
  const picks = await vscode.window.showQuickPick(ongoing.map((r) => pickItem(s, r)), {
    title: 'SkyDeck: Cancel Requests',
    placeHolder: 'Requests to cancel',
    canPickMany: true,
    matchOnDescription: true,
  });
  if (picks && picks.length > 0) await cancel(s, picks.map((p) => p.request));
}

async function cancel(s: Services, requests: RequestSummary[]): Promise<void> {
  const client = connectedClient(s);
  if (!client || requests.length === 0) return;
  const others = requests.filter((r) => r.user !== undefined && r.user.id !== '' && !s.requests.isMine(r));
  if (requests.length > 1 || others.length > 0) {
    const message =
      requests.length === 1
        ? `Cancel ${requestLabel(requests[0]!)} (${shortId(requests[0]!.id)}), owned by ${others[0]!.user.name}?`
        : `Cancel ${requests.length} requests${others.length > 0 ? ` (${others.length} not yours)` : ''}?`;
    const detail = requests.map((r) => `${shortId(r.id)}  ${r.name ? requestLabel(r) : ''}  ${r.status ?? ''}`).join('\n');
    const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, 'Cancel Requests');
    if (answer !== 'Cancel Requests') return;
  }
  try {
    const cancelled = await client.cancel({ requestIds: requests.map((r) => r.id) });
    s.logger.info(`cancelled ${cancelled.join(', ') || 'nothing'}`);
    vscode.window.setStatusBarMessage(`SkyDeck: cancelled ${cancelled.length} request${cancelled.length === 1 ? '' : 's'}`, 4000);
  } catch (err) {
    showApiError(s, 'cancel failed', err);
  }
}

/** Flat, by cluster or by status; remembered for this workspace with the other filters. */
export async function groupRequests(s: Services): Promise<void> {
  const current = s.requests.filter.grouping ?? 'flat';
  const choices: (vscode.QuickPickItem & { grouping: RequestGrouping })[] = [
    { label: 'Flat', description: 'newest first', grouping: 'flat' },
    { label: 'By Cluster', description: 'each cluster with its requests', grouping: 'cluster' },
    { label: 'By Status', description: 'running, pending, then finished', grouping: 'status' },
  ];
  for (const c of choices) if (c.grouping === current) c.detail = 'current';
  const pick = await vscode.window.showQuickPick(choices, { title: 'SkyDeck: Group Requests' });
  if (pick) setRequestFilter(s, { grouping: pick.grouping });
}

export function setRequestFilter(s: Services, filter: Partial<RequestFilter>): void {
  s.requests.setFilter(filter);
  setContext('skydeck.requests.showFinished', s.requests.filter.showFinished);
  setContext('skydeck.requests.allUsers', s.requests.filter.allUsers);
  void s.context.workspaceState.update('skydeck.requestFilter', s.requests.filter);
}
