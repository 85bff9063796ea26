// The Managed Jobs view: the caller's managed jobs (GET /api/jobs), newest first, a pipeline's tasks as
// children. Read again every few seconds while the view is visible and something in it is unfinished
// (the server sends no managed-job events yet), at once when a `jobs.*` request of the live feed changes
// (a job launched or cancelled from the CLI, the dashboard or another window), and after an action. Actions: logs, controller
// log, cancel (commands/managed-jobs.ts).
import * as vscode from 'vscode';
import { isManagedJobFinished, jobDuration, recoveryCount, type ManagedJob, type ManagedJobStatus } from '../../protocol/jobs';
import { duration } from '../../client/format';
import { COMMANDS } from '../command-ids';
import { Disposable } from '../disposable';
import type { IconSpec } from '../format';
import type { Logger } from '../logger';
import type { RequestsModel } from '../model/requests-model';
import type { ServerSession } from '../server-session';
import { themeIcon } from './icons';

export type ManagedJobNode = { kind: 'managedJob'; id: number } | { kind: 'managedTask'; id: number; index: number };

const POLL_MS = 3000;

/** `managedJob.running` and the like: menus match on it (package.json). */
export function managedJobContextValue(status: ManagedJobStatus): string {
  return `managedJob.${isManagedJobFinished(status) ? 'finished' : 'active'}.${status.toLowerCase()}`;
}

const ICONS: Record<ManagedJobStatus, IconSpec> = {
  PENDING: { id: 'clock', color: 'charts.yellow' },
  STARTING: { id: 'gear~spin', color: 'charts.blue' },
  RUNNING: { id: 'loading~spin', color: 'charts.blue' },
  RECOVERING: { id: 'sync~spin', color: 'charts.orange' },
  CANCELLING: { id: 'circle-slash', color: 'charts.yellow' },
  SUCCEEDED: { id: 'pass', color: 'testing.iconPassed' },
  CANCELLED: { id: 'circle-slash', color: 'disabledForeground' },
  FAILED: { id: 'error', color: 'testing.iconFailed' },
  FAILED_SETUP: { id: 'error', color: 'testing.iconFailed' },
  FAILED_NO_RESOURCE: { id: 'error', color: 'testing.iconFailed' },
  FAILED_CONTROLLER: { id: 'error', color: 'testing.iconFailed' },
};
const icon = (status: ManagedJobStatus): IconSpec => ICONS[status];

export class ManagedJobsTreeProvider extends Disposable implements vscode.TreeDataProvider<ManagedJobNode> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private jobs: ManagedJob[] = [];
  private timer: NodeJS.Timeout | undefined;
  private visible = false;

  constructor(
    private readonly session: ServerSession,
    requests: RequestsModel,
    private readonly logger: Logger,
  ) {
    super();
    this._register({ dispose: () => clearTimeout(this.timer) });
    // An empty or finished list is not polled: a job launched elsewhere shows through its request instead.
    this._register(
      requests.onDidChange(({ added, updated }) => {
        if (this.visible && [...added, ...updated].some((id) => requests.get(id)?.name.startsWith('jobs.'))) void this.refresh();
      }),
    );
    // A new or re-established connection: read the list again if anyone looks.
    this._register(session.onDidChange(() => this.visible && void this.refresh()));
  }

  /** The view's visibility drives polling: nothing is asked while no one looks. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) void this.refresh();
    else clearTimeout(this.timer);
  }

  job(id: number): ManagedJob | undefined {
    return this.jobs.find((j) => j.id === id);
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    const client = this.session.connection?.state === 'connected' ? this.session.connection.client : undefined;
    if (client) {
      try {
        this.jobs = await client.managedJobs();
        this.changed.fire();
      } catch (err) {
        this.logger.warn(`could not list managed jobs: ${(err as Error).message}`);
      }
    }
    if (this.visible && (!client || this.jobs.some((j) => !isManagedJobFinished(j.status)))) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  getChildren(element?: ManagedJobNode): ManagedJobNode[] {
    if (!element) return this.jobs.map((j) => ({ kind: 'managedJob', id: j.id }));
    if (element.kind === 'managedTask') return [];
    const job = this.job(element.id);
    return job && job.tasks.length > 1 ? job.tasks.map((t) => ({ kind: 'managedTask', id: job.id, index: t.index })) : [];
  }

  getTreeItem(node: ManagedJobNode): vscode.TreeItem {
    const job = this.job(node.id);
    if (!job) return new vscode.TreeItem(String(node.id));
    if (node.kind === 'managedTask') {
      const t = job.tasks[node.index]!;
      const item = new vscode.TreeItem(`${t.index}: ${t.name ?? 'task'}`, vscode.TreeItemCollapsibleState.None);
      item.description = `${t.status} · ${t.resources}${t.recoveryCount > 0 ? ` · ${t.recoveryCount} recoveries` : ''}`;
      item.iconPath = themeIcon(icon(t.status));
      return item;
    }
    const item = new vscode.TreeItem(`${job.id} ${job.name ?? ''}`.trim(), job.tasks.length > 1 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `managedJob:${job.id}`;
    const recoveries = recoveryCount(job);
    item.description = [job.status, job.startedAt !== undefined ? duration(jobDuration(job)) : undefined, recoveries > 0 ? `${recoveries} recover${recoveries === 1 ? 'y' : 'ies'}` : undefined].filter(Boolean).join(' · ');
    item.iconPath = themeIcon(icon(job.status));
    item.contextValue = managedJobContextValue(job.status);
    const current = job.tasks[job.currentTask];
    item.tooltip = [
      `managed job ${job.id}${job.name ? ` (${job.name})` : ''}: ${job.status}`,
      `${job.tasks.length} task(s); now ${current?.resources ?? ''}${current?.cluster ? ` on ${current.cluster}` : ''}`,
      job.statusMessage ?? job.failureReason ?? '',
    ]
      .filter(Boolean)
      .join('\n');
    item.accessibilityInformation = { label: `managed job ${job.id} ${job.name ?? ''} ${job.status}` };
    item.command = { command: COMMANDS.viewManagedJobLogs, title: 'View Managed Job Logs', arguments: [{ kind: 'managedJob', id: job.id }] };
    return item;
  }
}
