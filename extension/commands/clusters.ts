// Cluster and job commands: stop, start, down (confirming what they cancel), exec, job logs, cancel job, refresh.
import * as vscode from 'vscode';
import type { Cluster } from '../../protocol/model';
import { shortId, requestLabel } from '../format';
import type { Services } from '../services';
import type { ClusterNode } from '../views/clusters-tree';
import { connectedClient, showApiError } from './api';
import { execOnCluster } from './launch';
import { openNodeTerminal } from '../terminal/node-terminal';

export type ClusterRef = Extract<ClusterNode, { kind: 'cluster' }> | string;
type JobRef = Extract<ClusterNode, { kind: 'job' }>;

const clusterOf = (ref: ClusterRef): string => (typeof ref === 'string' ? ref : ref.name);
/** SSH node pools and Slurm cannot stop: the palette offers them neither Stop nor Start (as the view's menus). */
const stoppable = (c: Cluster): boolean => c.canStop !== false;

export async function pickCluster(s: Services, ref: ClusterRef | undefined, title: string, offered: (c: Cluster) => boolean = () => true): Promise<string | undefined> {
  if (ref !== undefined) return clusterOf(ref);
  const clusters = s.clusters.list().filter(offered);
  if (clusters.length === 0) {
    void vscode.window.showInformationMessage('SkyDeck: there are no clusters to pick.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(clusters.map((c) => ({ label: c.name, description: c.status })), { title });
  return pick?.label;
}

/** stop and down cancel the cluster's pending and running requests first: say which, and ask. */
async function confirmDestructive(s: Services, verb: 'Stop' | 'Tear Down', cluster: string): Promise<boolean> {
  const doomed = s.requests.ongoing().filter((r) => r.clusterName === cluster);
  const detail = [
    verb === 'Tear Down' ? `The cluster ${cluster} and everything on it will be removed.` : `The cluster ${cluster} will be stopped; it can be started again.`,
    doomed.length > 0 ? `These requests will be cancelled:\n${doomed.map((r) => `  ${shortId(r.id)} ${requestLabel(r)} (${r.status}, ${r.user.name})`).join('\n')}` : 'No pending or running request will be cancelled.',
  ].join('\n\n');
  const answer = await vscode.window.showWarningMessage(`${verb} cluster ${cluster}?`, { modal: true, detail }, verb);
  return answer === verb;
}

async function submitClusterOp(s: Services, operation: 'stop' | 'start' | 'down', cluster: string): Promise<void> {
  const client = connectedClient(s);
  if (!client) return;
  try {
    const id = await client.submit(operation, { clusterName: cluster });
    s.logs.show({ id, name: operation, clusterName: cluster });
  } catch (err) {
    showApiError(s, `${operation} ${cluster} failed`, err);
  }
}

export async function stopCluster(s: Services, ref?: ClusterRef): Promise<void> {
  const cluster = await pickCluster(s, ref, 'SkyDeck: Stop Cluster', stoppable);
  if (cluster && (await confirmDestructive(s, 'Stop', cluster))) await submitClusterOp(s, 'stop', cluster);
}

export async function startCluster(s: Services, ref?: ClusterRef): Promise<void> {
  const cluster = await pickCluster(s, ref, 'SkyDeck: Start Cluster', stoppable);
  if (cluster) await submitClusterOp(s, 'start', cluster);
}

export async function downCluster(s: Services, ref?: ClusterRef): Promise<void> {
  const cluster = await pickCluster(s, ref, 'SkyDeck: Tear Down Cluster');
  if (cluster && (await confirmDestructive(s, 'Tear Down', cluster))) await submitClusterOp(s, 'down', cluster);
}

export async function execCommand(s: Services, ref?: ClusterRef): Promise<void> {
  const cluster = await pickCluster(s, ref, 'SkyDeck: Exec on Cluster');
  if (cluster) await execOnCluster(s, cluster);
}

export async function viewJobLogs(s: Services, ref?: JobRef): Promise<void> {
  if (!ref) return void vscode.window.showInformationMessage('SkyDeck: pick a job in the Clusters view.');
  const client = connectedClient(s);
  if (!client) return;
  try {
    const id = await client.submit('job_logs', { clusterName: ref.cluster, jobId: ref.jobId, follow: true });
    s.logs.show({ id, name: `job ${ref.jobId} logs`, clusterName: ref.cluster }, { preserveFocus: false, fromStart: true });
  } catch (err) {
    showApiError(s, `logs of job ${ref.jobId} on ${ref.cluster}`, err);
  }
}

export async function cancelJob(s: Services, ref?: JobRef): Promise<void> {
  if (!ref) return void vscode.window.showInformationMessage('SkyDeck: pick a job in the Clusters view.');
  const client = connectedClient(s);
  if (!client) return;
  const answer = await vscode.window.showWarningMessage(`Cancel job ${ref.jobId} on ${ref.cluster}?`, { modal: true }, 'Cancel Job');
  if (answer !== 'Cancel Job') return;
  try {
    await client.submit('cancel_jobs', { clusterName: ref.cluster, jobIds: [ref.jobId] });
  } catch (err) {
    showApiError(s, `cancel job ${ref.jobId} on ${ref.cluster}`, err);
  }
}

/** Reads the cluster list again (a direct read, no request) and forgets loaded jobs so they reload. */
export async function refreshClusters(s: Services): Promise<void> {
  const client = s.session.connection?.state === 'connected' ? s.session.connection.client : undefined;
  if (!client) return;
  try {
    s.clusters.replaceAll(await client.clusters(), { forgetJobs: true });
  } catch (err) {
    s.logger.warn(`refreshing clusters: ${(err as Error).message}`);
  }
}

/** A shell on one of the cluster's nodes (asked which when it has several), in a VS Code terminal. */
export async function openTerminal(s: Services, ref?: ClusterRef, node?: number): Promise<vscode.Terminal | undefined> {
  const name = await pickCluster(s, ref, 'SkyDeck: Open Terminal');
  if (!name) return undefined;
  const client = connectedClient(s);
  if (!client) return undefined;
  const nodes = s.clusters.get(name)?.nodes ?? [];
  let rank = node;
  if (rank === undefined && nodes.length > 1) {
    const pick = await vscode.window.showQuickPick(
      nodes.map((n) => ({ label: n.rank === 0 ? `node 0 (head)` : `node ${n.rank}`, description: [n.host, n.ip].filter(Boolean).join(' '), rank: n.rank })),
      { title: `SkyDeck: Open Terminal on ${name}` },
    );
    if (!pick) return undefined;
    rank = pick.rank;
  }
  return openNodeTerminal(client, name, rank ?? 0);
}
