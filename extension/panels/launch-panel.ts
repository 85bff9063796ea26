// The Launch form panel: task file, cluster and resource overrides, checked as you type, then Launch.
import * as vscode from 'vscode';
import { parseTaskYaml, TaskValidationError } from '../../protocol/task';
import { applyForm, fieldOfPath, formIssues, type FieldIssue, type LaunchForm } from '../../protocol/webview';
import { ClientError, taskIssues } from '../../client/errors';
import { loadTaskFile } from '../../client/task-file';
import type { Services } from '../services';
import { findTaskFiles, readText } from '../tasks/task-files';
import { WebviewHost } from './webview-host';

let lastOpening = 0;
/**
 * Names an opening of the form on a task file: numbered by the clock, so an opening after a window reload
 * never has the number of one the restored page already applied (which a count from 1 would repeat).
 */
function nextOpening(): number {
  lastOpening = Math.max(Date.now(), lastOpening + 1);
  return lastOpening;
}

export class LaunchPanel extends WebviewHost {
  /** The last task file the form was opened on, sent with every init: the page selects each opening once. */
  private openedOn: { taskFile: string; opening: number } | undefined;
  private choicesRead = 0;

  /** A new form (on `taskFile` when given), or the one VS Code `restored` after a window reload. */
  constructor(
    private readonly s: Services,
    options: { taskFile?: vscode.Uri; restored?: vscode.WebviewPanel } = {},
  ) {
    super(s.context.extensionUri, 'launch', 'SkyDeck: Launch', { restored: options.restored });
    if (options.taskFile) this.openedOn = { taskFile: options.taskFile.toString(), opening: nextOpening() };
    this.calls.launch = ({ form }) => this.launch(form);
    // Once connected (after a window reload the form is back first), the server's infra and clusters.
    this._register(
      s.session.onDidChange(() => {
        if (this.pageReady && s.session.state === 'connected') void this.sendChoices();
      }),
    );
  }

  /** Shows the form again, on another task file if one is given, keeping what was entered (the panel is reused). */
  useTaskFile(uri: vscode.Uri | undefined): void {
    if (uri) this.openedOn = { taskFile: uri.toString(), opening: nextOpening() };
    void this.sendChoices();
    this.reveal();
  }

  /**
   * The page (re)loaded: on first showing, and each time its tab is shown again after VS Code discarded it
   * while hidden. It restores its entries from its webview state; the init only brings the choices.
   */
  protected onReady(): Promise<void> {
    return this.sendChoices();
  }

  /** The task files, clusters and infra to choose from, read afresh; of two reads at once only the later is sent. */
  private async sendChoices(): Promise<void> {
    const turn = ++this.choicesRead;
    const taskFiles = (await findTaskFiles()).map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri: uri.toString() }));
    const client = this.s.session.connection?.state === 'connected' ? this.s.session.connection.client : undefined;
    const infras = client ? await client.infra().then((list) => list.filter((i) => i.enabled).map((i) => i.infra), () => ['local']) : ['local'];
    if (turn !== this.choicesRead) return;
    this.post({ type: 'launch-init', taskFiles, clusters: this.s.clusters.list().map((c) => ({ name: c.name, infra: c.infra, status: c.status })), infras, openedOn: this.openedOn });
  }

  protected onMessage(): void {
    // The form only calls (launch); it posts nothing else.
  }

  private async launch(form: LaunchForm): Promise<{ requestId?: string; issues?: FieldIssue[] }> {
    const issues = formIssues(form);
    if (issues.length > 0) return { issues };
    const uri = vscode.Uri.parse(form.taskFile);
    let task;
    try {
      const base = uri.scheme === 'file' ? loadTaskFile(uri.fsPath).task : parseTaskYaml(await readText(uri), vscode.workspace.asRelativePath(uri));
      task = applyForm(base, form);
    } catch (err) {
      if (err instanceof TaskValidationError) return { issues: err.issues.map((i) => ({ field: fieldOfPath(i.path) || 'taskFile', message: `${i.path ? i.path + ': ' : ''}${i.message}` })) };
      if (err instanceof ClientError) return { issues: [{ field: 'taskFile', message: err.message }] };
      throw err;
    }
    const client = this.s.session.connection?.state === 'connected' ? this.s.session.connection.client : undefined;
    if (!client) return { issues: [{ field: '', message: 'not connected to the API server' }] };
    const clusterName = form.clusterName.trim();
    try {
      const requestId = await client.submit('launch', { task, clusterName });
      this.s.logger.info(`launch ${clusterName} from the form: request ${requestId}`);
      this.s.finished.watch(requestId);
      this.s.logs.show({ id: requestId, name: 'launch', clusterName });
      return { requestId };
    } catch (err) {
      // The server refuses what only it can know (infra it has not enabled): each issue goes to its field.
      const refused = taskIssues(err);
      if (refused) return { issues: refused.map((i) => ({ field: fieldOfPath(i.path), message: i.path ? `${i.path}: ${i.message}` : i.message })) };
      return { issues: [{ field: '', message: (err as Error).message }] };
    }
  }
}
