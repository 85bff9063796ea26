// The Requests view: draws RequestsModel, and nothing else. Each row's node is the request id; when the
// view is grouped (by cluster or status), a group's node is `group:<key>`.
import * as vscode from 'vscode';
import type { RequestSummary } from '../../protocol/model';
import { COMMANDS } from '../command-ids';
import { duration, requestAccessibleLabel, requestContextValue, requestDescription, requestIcon, requestLabel } from '../format';
import { Disposable } from '../disposable';
import { NO_CLUSTER, type RequestsModel } from '../model/requests-model';
import { themeIcon } from './icons';
import { RefreshBatcher } from './refresh-batcher';

/** Relative ages ("5m ago") are redrawn this often; the data itself only changes on server events. */
const AGE_REDRAW_MS = 30_000;
const GROUP = 'group:';

export class RequestsTreeProvider extends Disposable implements vscode.TreeDataProvider<string> {
  private readonly batcher = this._register(new RefreshBatcher<string>());
  readonly onDidChangeTreeData = this.batcher.event;
  /** The ids last handed to the view: an update that moves a request in or out of the filter reshapes the list. */
  private shown = new Set<string>();

  constructor(private readonly model: RequestsModel) {
    super();
    this._register(
      model.onDidChange((change) => {
        const visible = new Set(model.visible().map((r) => r.id));
        // Grouped, any update may move a row to another group.
        const reshaped = (model.filter.grouping ?? 'flat') !== 'flat' || change.added.length > 0 || change.removed.length > 0 || change.updated.length === 0 || change.updated.some((id) => visible.has(id) !== this.shown.has(id));
        if (reshaped) this.batcher.refresh();
        else this.batcher.refresh(change.updated);
      }),
    );
    const ages = setInterval(() => this.batcher.refresh(), AGE_REDRAW_MS);
    this._register({ dispose: () => clearInterval(ages) });
  }

  getChildren(element?: string): string[] {
    const groups = this.model.groups();
    if (!element) {
      this.shown = new Set(groups.flatMap((g) => g.requests.map((r) => r.id)));
      if ((this.model.filter.grouping ?? 'flat') === 'flat') return groups[0]?.requests.map((r) => r.id) ?? [];
      return groups.map((g) => GROUP + g.key);
    }
    if (!element.startsWith(GROUP)) return [];
    return groups.find((g) => GROUP + g.key === element)?.requests.map((r) => r.id) ?? [];
  }

  getParent(id: string): string | undefined {
    if ((this.model.filter.grouping ?? 'flat') === 'flat' || id.startsWith(GROUP)) return undefined;
    const group = this.model.groups().find((g) => g.requests.some((r) => r.id === id));
    return group ? GROUP + group.key : undefined;
  }

  getTreeItem(id: string): vscode.TreeItem {
    if (id.startsWith(GROUP)) return this.groupItem(id.slice(GROUP.length));
    const r = this.model.get(id);
    return r ? requestItem(r, this.model.isMine(r)) : new vscode.TreeItem('(gone)');
  }

  private groupItem(key: string): vscode.TreeItem {
    const byCluster = this.model.filter.grouping === 'cluster';
    const requests = this.model.groups().find((g) => g.key === key)?.requests ?? [];
    const label = byCluster ? (key === NO_CLUSTER ? 'no cluster' : key) : key;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = GROUP + (this.model.filter.grouping ?? '') + ':' + key;
    const ongoing = requests.filter((r) => r.status === 'PENDING' || r.status === 'RUNNING').length;
    item.description = `${requests.length}${byCluster && ongoing > 0 ? ` · ${ongoing} ongoing` : ''}`;
    item.iconPath = byCluster ? new vscode.ThemeIcon('server') : themeIcon(requestIcon(key as RequestSummary['status']));
    item.contextValue = 'requestGroup';
    item.accessibilityInformation = { label: `${byCluster ? 'Cluster' : 'Status'} ${label}: ${requests.length} request${requests.length === 1 ? '' : 's'}` };
    return item;
  }
}

/** A request's row, in the Requests view and under its cluster in the Clusters view; a click opens its details. */
export function requestItem(r: RequestSummary, mine: boolean): vscode.TreeItem {
  const now = Date.now();
  const item = new vscode.TreeItem(requestLabel(r), vscode.TreeItemCollapsibleState.None);
  item.id = r.id;
  item.description = requestDescription(r, mine, now);
  item.iconPath = themeIcon(requestIcon(r.status));
  item.contextValue = requestContextValue(r, mine);
  item.tooltip = tooltip(r, mine);
  item.accessibilityInformation = { label: requestAccessibleLabel(r, mine, now) };
  item.command = { command: COMMANDS.showRequestDetails, title: 'Show Request Details', arguments: [r.id] };
  return item;
}

function tooltip(r: RequestSummary, mine: boolean): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${requestLabel(r)}** · $(${requestIcon(r.status).id.replace('~spin', '')}) ${r.status}\n\n`);
  md.appendMarkdown(`id \`${r.id}\`  \nuser ${r.user.name}${mine ? ' (me)' : ''}  \ncreated ${new Date(r.createdAt).toLocaleString()}`);
  if (r.startedAt) md.appendMarkdown(`  \nwaited ${duration(r.startedAt - r.createdAt)}`);
  if (r.finishedAt) md.appendMarkdown(`  \nran ${duration(r.finishedAt - (r.startedAt ?? r.createdAt))}`);
  // What the server says is shown as text, never interpreted as Markdown.
  if (r.statusMessage) md.appendMarkdown('\n\n').appendText(r.statusMessage);
  if (r.error) md.appendMarkdown('\n\n').appendText(`${r.error.type}: ${r.error.message}`);
  return md;
}
