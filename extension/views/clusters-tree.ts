// The Clusters view: clusters with their jobs as children, drawn from ClustersModel. Jobs load on
// first expansion (GET /api/clusters/:name/jobs) and then follow the WebSocket's job events.
import * as vscode from 'vscode';
import type { Cluster, Job } from '../../protocol/model';
import { COMMANDS } from '../command-ids';
import { clusterContextValue, clusterDescription, clusterIcon, jobContextValue, jobDescription, jobIcon, jobLabel } from '../format';
import { Disposable } from '../disposable';
import type { Logger } from '../logger';
import type { ClustersModel } from '../model/clusters-model';
import type { ServerSession } from '../server-session';
import { themeIcon } from './icons';
import { RefreshBatcher } from './refresh-batcher';

export type ClusterNode = { kind: 'cluster'; name: string } | { kind: 'job'; cluster: string; jobId: number };

export class ClustersTreeProvider extends Disposable implements vscode.TreeDataProvider<ClusterNode> {
  private readonly batcher = this._register(new RefreshBatcher<ClusterNode>());
  readonly onDidChangeTreeData = this.batcher.event;
  /** One node object per cluster, so a refresh of that object redraws that row. */
  private readonly clusterNodes = new Map<string, ClusterNode>();
  private readonly loading = new Set<string>();

  constructor(
    private readonly model: ClustersModel,
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
  }

  getChildren(element?: ClusterNode): ClusterNode[] {
    if (!element) {
      const clusters = this.model.list();
      for (const name of [...this.clusterNodes.keys()]) if (!this.model.get(name)) this.clusterNodes.delete(name);
      return clusters.map((c) => this.clusterNode(c.name));
    }
    if (element.kind === 'job') return [];
    const jobs = this.model.jobs(element.name);
    if (!jobs) {
      void this.loadJobs(element.name);
      return [];
    }
    return jobs.map((j) => ({ kind: 'job', cluster: j.cluster, jobId: j.jobId }));
  }

  getTreeItem(node: ClusterNode): vscode.TreeItem {
    if (node.kind === 'cluster') {
      const c = this.model.get(node.name);
      return c ? this.clusterItem(c) : new vscode.TreeItem(node.name);
    }
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
