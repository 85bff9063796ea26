// Commands of the Managed Jobs view: the job's log (across recoveries) or its controller's in an output
// channel, cancel (whatever the state), refresh.
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ManagedJobNode } from '../views/managed-jobs-tree';
import { connectedClient, showApiError } from './api';

function jobId(node: unknown): number | undefined {
  const n = node as ManagedJobNode | undefined;
  return n && (n.kind === 'managedJob' || n.kind === 'managedTask') && typeof n.id === 'number' ? n.id : undefined;
}

export async function viewManagedJobLogs(s: Services, node: unknown, controller = false): Promise<void> {
  const id = jobId(node);
  if (id === undefined) return void vscode.window.showInformationMessage('SkyDeck: pick a job in the Managed Jobs view.');
  const client = connectedClient(s);
  if (!client) return;
  try {
    const requestId = await client.submit('jobs.logs', { jobId: id, follow: true, ...(controller ? { controller: true } : {}) });
    s.logs.show({ id: requestId, name: `managed job ${id}${controller ? ' controller' : ''} logs` }, { preserveFocus: false, fromStart: true });
  } catch (err) {
    showApiError(s, `logs of managed job ${id}`, err);
  }
}

export async function cancelManagedJob(s: Services, node: unknown): Promise<void> {
  const id = jobId(node);
  if (id === undefined) return void vscode.window.showInformationMessage('SkyDeck: pick a job in the Managed Jobs view.');
  const client = connectedClient(s);
  if (!client) return;
  const answer = await vscode.window.showWarningMessage(`Cancel managed job ${id}? Its cluster is torn down.`, { modal: true }, 'Cancel Job');
  if (answer !== 'Cancel Job') return;
  try {
    await client.waitForRequest(await client.submit('jobs.cancel', { jobIds: [id] }));
  } catch (err) {
    showApiError(s, `cancel managed job ${id}`, err);
  }
  await s.managedJobs?.refresh();
}
