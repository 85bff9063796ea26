// The Clusters view: clusters with, as children, their ongoing requests (from RequestsModel), the
// endpoints of their declared ports and their jobs, drawn from ClustersModel. Jobs load on first
// expansion (GET /api/clusters/:name/jobs) and then follow the WebSocket's job events.
import * as vscode from 'vscode';
import { clusterEndpoints, type Cluster, type Job } from '../../protocol/model';
import { COMMANDS } from '../command-ids';
import { clusterContextValue, clusterDescription, clusterIcon, jobContextValue, jobDescription, jobIcon, jobLabel } from '../format';
import { Disposable } from '../disposable';
import type { Logger } from '../logger';
import type { ClustersModel } from '../model/clusters-model';
import type { RequestsModel } from '../model/requests-model';
import type { ServerSession } from '../server-session';
import { themeIcon } from './icons';
import { RefreshBatcher } from './refresh-batcher';
import { requestItem } from './requests-tree';

export type ClusterNode =
  | { kind: 'cluster'; name: string }
  | { kind: 'request'; cluster: string; id: string }
  | { kind: 'endpoint'; cluster: string; port: number; url: string }
  | { kind: 'job'; cluster: string; jobId: number };

export class ClustersTreeProvider extends Disposable implements vscode.TreeDataProvider<ClusterNode> {
  private readonly batcher = this._register(new RefreshBatcher<ClusterNode>());
  readonly onDidChangeTreeData = this.batcher.event;
  /** One node object per cluster, so a refresh of that object redraws that row. */
  private readonly clusterNodes = new Map<string, ClusterNode>();
  private readonly loading = new Set<string>();
  /** The ongoing request ids last drawn under each cluster: a request event redraws only the clusters whose set changed. */
  private ongoingShown = new Map<string, string>();

  constructor(
    private readonly model: ClustersModel,
    private readonly requests: RequestsModel,
    private readonly session: ServerSession,
    private readonly logger: Logger,
  ) {
    super();
    this._register(
      model.onDidChange((change) => {
        if (change.reshaped) this.batcher.refresh();
        else this.batcher.refresh(change.clusters.map((name) => this.clusterNode(name)));
      }),
    );
    this._register(
      requests.onDidChange(() => {
        const now = this.ongoingByCluster();
        const changed = [...new Set([...now.keys(), ...this.ongoingShown.keys()])].filter((c) => now.get(c) !== this.ongoingShown.get(c) && this.model.get(c));
        this.ongoingShown = now;
        if (changed.length > 0) this.batcher.refresh(changed.map((name) => this.clusterNode(name)));
      }),
    );
  }

  private ongoingByCluster(): Map<string, string> {
    const out = new Map<string, string[]>();
    for (const r of this.requests.ongoing()) if (r.clusterName) out.set(r.clusterName, [...(out.get(r.clusterName) ?? []), `${r.id}:${r.status}`]);
    return new Map([...out].map(([c, ids]) => [c, ids.join(',')]));
  }

  getChildren(element?: ClusterNode): ClusterNode[] {
    if (!element) {
      const clusters = this.model.list();
      for (const name of [...this.clusterNodes.keys()]) if (!this.model.get(name)) this.clusterNodes.delete(name);
      return clusters.map((c) => this.clusterNode(c.name));
    }
    if (element.kind !== 'cluster') return [];
    const cluster = this.model.get(element.name);
    const ongoing: ClusterNode[] = this.requests.ongoing().filter((r) => r.clusterName === element.name).map((r) => ({ kind: 'request', cluster: element.name, id: r.id }));
    const endpoints: ClusterNode[] = cluster ? clusterEndpoints(cluster).map((e) => ({ kind: 'endpoint', cluster: element.name, ...e })) : [];
    const jobs = this.model.jobs(element.name);
    if (!jobs) void this.loadJobs(element.name);
    return [...ongoing, ...endpoints, ...(jobs ?? []).map((j): ClusterNode => ({ kind: 'job', cluster: j.cluster, jobId: j.jobId }))];
  }

  getTreeItem(node: ClusterNode): vscode.TreeItem {
    if (node.kind === 'cluster') {
      const c = this.model.get(node.name);
      return c ? this.clusterItem(c) : new vscode.TreeItem(node.name);
    }
    if (node.kind === 'request') {
      const r = this.requests.get(node.id);
      if (!r) return new vscode.TreeItem('(gone)');
      const item = requestItem(r, this.requests.isMine(r));
      // Unique in this view (the same request is a row of the Requests view too).
      item.id = `cluster-request:${r.id}`;
      return item;
    }
    if (node.kind === 'endpoint') return endpointItem(node);
    const job = this.model.jobs(node.cluster)?.find((j) => j.jobId === node.jobId);
    return job ? jobItem(job) : new vscode.TreeItem(String(node.jobId));
  }

  private clusterNode(name: string): ClusterNode {
    let node = this.clusterNodes.get(name);
    if (!node) this.clusterNodes.set(name, (node = { kind: 'cluster', name }));
    return node;
  }

  private clusterItem(c: Cluster): vscode.TreeItem {
    const mine = c.owner.id === this.session.connection?.health?.user.id;
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `cluster:${c.name}`;
    item.description = clusterDescription(c);
    item.iconPath = themeIcon(clusterIcon(c.status));
    item.contextValue = clusterContextValue(c, mine);
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${c.name}** · ${c.status}  \n`).appendText(`${clusterDescription(c)}\nowner ${c.owner.name}\nlaunched ${new Date(c.launchedAt).toLocaleString()}`);
    if (c.autostop !== undefined) md.appendText(`\nautostop after ${c.autostop} min idle`);
    if (c.statusMessage) md.appendText(`\n${c.statusMessage}`);
    item.tooltip = md;
    item.accessibilityInformation = { label: `cluster ${c.name} ${clusterDescription(c)}` };
    return item;
  }

  private async loadJobs(cluster: string): Promise<void> {
    const client = this.session.connection?.client;
    if (!client || this.loading.has(cluster)) return;
    this.loading.add(cluster);
    try {
      this.model.setJobs(cluster, await client.jobs(cluster));
    } catch (err) {
      this.logger.warn(`could not list the jobs of ${cluster}: ${(err as Error).message}`);
    } finally {
      this.loading.delete(cluster);
    }
  }
}

function endpointItem(e: Extract<ClusterNode, { kind: 'endpoint' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(`port ${e.port}`, vscode.TreeItemCollapsibleState.None);
  item.id = `endpoint:${e.cluster}:${e.port}`;
  item.description = e.url;
  item.iconPath = new vscode.ThemeIcon('globe');
  item.contextValue = 'endpoint';
  item.tooltip = `${e.url}: port ${e.port} the task on ${e.cluster} declared (resources.ports)`;
  item.accessibilityInformation = { label: `endpoint ${e.port} of ${e.cluster} at ${e.url}` };
  item.command = { command: COMMANDS.openEndpoint, title: 'Open in Browser', arguments: [e] };
  return item;
}

function jobItem(j: Job): vscode.TreeItem {
  const item = new vscode.TreeItem(jobLabel(j), vscode.TreeItemCollapsibleState.None);
  item.id = `job:${j.cluster}:${j.jobId}`;
  item.description = jobDescription(j, Date.now());
  item.iconPath = themeIcon(jobIcon(j.status));
  item.contextValue = jobContextValue(j);
  item.tooltip = `job ${j.jobId} on ${j.cluster}: ${j.status}${j.failureReason ? `\n${j.failureReason}` : ''}`;
  item.accessibilityInformation = { label: `job ${jobLabel(j)} on ${j.cluster} ${jobDescription(j, Date.now())}` };
  item.command = { command: COMMANDS.viewJobLogs, title: 'View Job Logs', arguments: [{ kind: 'job', cluster: j.cluster, jobId: j.jobId }] };
  return item;
}
