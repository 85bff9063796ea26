// How requests, clusters and jobs read in the views: labels, ages, icons and context values.
// No vscode import: the views turn these plain descriptions into TreeItems.
import { relativeTime, shortId } from '../client/format';
import type { Cluster, Job, RequestStatus, RequestSummary, Resources } from '../protocol/model';

/** A codicon id and the theme colour to draw it in. */
export interface IconSpec {
  id: string;
  color?: string;
}

const REQUEST_ICONS: Record<RequestStatus, IconSpec> = {
  PENDING: { id: 'clock', color: 'charts.yellow' },
  RUNNING: { id: 'loading~spin', color: 'charts.blue' },
  SUCCEEDED: { id: 'pass', color: 'testing.iconPassed' },
  FAILED: { id: 'error', color: 'testing.iconFailed' },
  CANCELLED: { id: 'circle-slash', color: 'disabledForeground' },
};

/** Jobs share the requests' statuses, plus setting up. */
const JOB_ICONS: Record<Job['status'], IconSpec> = { ...REQUEST_ICONS, SETTING_UP: { id: 'gear~spin', color: 'charts.blue' } };

const CLUSTER_ICONS: Record<Cluster['status'], IconSpec> = {
  INIT: { id: 'loading~spin', color: 'charts.yellow' },
  UP: { id: 'vm-running', color: 'charts.green' },
  STOPPED: { id: 'vm-outline', color: 'disabledForeground' },
};

export const requestIcon = (status: RequestStatus): IconSpec => REQUEST_ICONS[status];
export const jobIcon = (status: Job['status']): IconSpec => JOB_ICONS[status];
export const clusterIcon = (status: Cluster['status']): IconSpec => CLUSTER_ICONS[status];

// Ages, durations and short ids read the same in the views as in the CLI.
export { duration, relativeTime, shortId } from '../client/format';

export function requestLabel(r: RequestSummary): string {
  return r.clusterName ? `${r.name} ${r.clusterName}` : r.name;
}

/** The row's secondary text: who and when, plus why it waits. */
export function requestDescription(r: RequestSummary, mine: boolean, now: number): string {
  const who = mine ? 'me' : r.user.name;
  const parts = [who, relativeTime(r.createdAt, now)];
  if (r.status === 'PENDING' && r.statusMessage) parts.push(r.statusMessage);
  return parts.join(' · ');
}

/** Spoken by screen readers and matched by the end-to-end test: every fact of the row in one line. */
export function requestAccessibleLabel(r: RequestSummary, mine: boolean, now: number): string {
  return `${requestLabel(r)} ${r.status} ${shortId(r.id)} ${requestDescription(r, mine, now)}`;
}

/** `request.running.mine`: menus match these with `viewItem =~ /^request\.(pending|running)\./`. */
export function requestContextValue(r: RequestSummary, mine: boolean): string {
  return `request.${r.status.toLowerCase()}.${mine ? 'mine' : 'others'}`;
}

/**
 * `cluster.up.mine.stoppable`: menus match status with `/^cluster\.up\./` and offer Stop/Start only on
 * `/\.stoppable$/` (SSH node pools and Slurm cannot stop; records older than `canStop` count as stoppable).
 */
export function clusterContextValue(c: Cluster, mine: boolean): string {
  return `cluster.${c.status.toLowerCase()}.${mine ? 'mine' : 'others'}.${c.canStop === false ? 'fixed' : 'stoppable'}`;
}

export function jobContextValue(j: Job): string {
  return `job.${j.status.toLowerCase()}`;
}

/** "local, 4+ CPUs, 8 GiB, A100:1, 2 nodes". */
export function describeResources(resources: Partial<Resources>, numNodes = 1): string {
  const parts = [resources.infra ?? 'local'];
  if (resources.cpus) parts.push(`${resources.cpus} CPUs`);
  if (resources.memory) parts.push(`${resources.memory} GiB`);
  if (resources.accelerators) parts.push(resources.accelerators);
  if (numNodes > 1) parts.push(`${numNodes} nodes`);
  return parts.join(', ');
}

export function clusterDescription(c: Cluster): string {
  return `${c.status} · ${describeResources(c.resources, c.numNodes)}`;
}

export function jobLabel(j: Job): string {
  return `${j.jobId}${j.name ? ` ${j.name}` : ''}`;
}

export function jobDescription(j: Job, now: number): string {
  const parts: string[] = [j.status];
  if (j.exitCode !== undefined && j.status !== 'SUCCEEDED') parts.push(`exit ${j.exitCode}`);
  parts.push(relativeTime(j.submittedAt, now));
  return parts.join(' · ');
}

/** Strips ANSI escape sequences: output channels show them as raw text. */
export function stripAnsi(text: string): string {
  // CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks).
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, '');
}
