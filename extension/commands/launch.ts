// Launch Task... and Exec on Cluster: pick a task file, a cluster, confirm what runs where, submit, follow the log.
import * as vscode from 'vscode';
import { CLUSTER_NAME } from '../../protocol/wire';
import { fillEnvs, parseTaskYaml, taskInfra, TaskValidationError, type Task, type TaskIssue } from '../../protocol/task';
import { ClientError, taskIssues } from '../../client/errors';
import { loadTaskFile } from '../../client/task-file';
import { locateIssues } from '../../client/task-lines';
import { uploadTaskFiles } from '../../client/upload';
import { describeResources } from '../format';
import type { Services } from '../services';
import { findTaskFiles, isTaskDocument, readText } from '../tasks/task-files';
import { connectedClient, showApiError } from './api';

export interface LoadedTask {
  uri: vscode.Uri;
  text: string;
  task: Task;
}

export async function launchTask(s: Services, uri?: vscode.Uri): Promise<string | undefined> {
  if (!connectedClient(s)) return;
  const file = uri ?? (await pickTaskFile());
  if (!file) return;
  const loaded = await loadTask(file);
  if (!loaded) return;
  const clusterName = await pickClusterName(s, loaded.task);
  if (!clusterName) return;
  if (!(await confirmLaunch(s, 'launch', loaded.task, clusterName))) return;
  return submitTask(s, 'launch', loaded, clusterName);
}

export async function execOnCluster(s: Services, clusterName: string): Promise<string | undefined> {
  if (!connectedClient(s)) return;
  const file = await pickTaskFile();
  if (!file) return;
  const loaded = await loadTask(file);
  if (!loaded || !(await confirmLaunch(s, 'exec', loaded.task, clusterName))) return;
  return submitTask(s, 'exec', loaded, clusterName);
}

/** Submits a validated task and starts following its log; returns the request id. */
export async function submitTask(s: Services, operation: 'launch' | 'exec', loaded: LoadedTask, clusterName: string): Promise<string | undefined> {
  const client = connectedClient(s);
  if (!client) return;
  let requestId: string;
  try {
    // A server on another machine cannot read this machine's paths: the files travel with the task.
    const task = await uploadTaskFiles(client, loaded.task);
    requestId = await client.submit(operation, { task, clusterName });
  } catch (err) {
    const issues = taskIssues(err);
    if (issues) await showTaskIssues(loaded.uri, loaded.text, issues);
    else showApiError(s, `${operation} failed`, err);
    return;
  }
  s.logger.info(`${operation} ${clusterName}: request ${requestId}`);
  s.finished.watch(requestId);
  s.logs.show({ id: requestId, name: operation, clusterName });
  return requestId;
}

/** The active editor's task file, else a pick among the workspace's task files. */
export async function pickTaskFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const files = await findTaskFiles();
  if (files.length === 0 && !(active && isTaskDocument(active))) {
    void vscode.window.showErrorMessage('SkyDeck: no task YAML found in the workspace (a YAML file with run:, setup: or resources:).');
    return undefined;
  }
  const items = files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }));
  if (active && isTaskDocument(active)) {
    const rest = items.filter((i) => i.uri.toString() !== active.uri.toString());
    items.splice(0, items.length, { label: vscode.workspace.asRelativePath(active.uri), uri: active.uri, description: 'active editor' } as (typeof items)[number], ...rest);
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'SkyDeck: Launch Task', placeHolder: 'Task file to run' });
  return pick?.uri;
}

/** Reads and validates a task file, asking for required envs; shows problems at their keys. */
export async function loadTask(uri: vscode.Uri): Promise<LoadedTask | undefined> {
  // What runs is what is on disk (relative workdir and file_mounts resolve against it): save edits first.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const text = await readText(uri);
  let task: Task;
  try {
    task = uri.scheme === 'file' ? loadTaskFile(uri.fsPath).task : parseTaskYaml(text, vscode.workspace.asRelativePath(uri));
  } catch (err) {
    if (err instanceof TaskValidationError) {
      await showTaskIssues(uri, text, err.issues);
      return undefined;
    }
    if (err instanceof ClientError) {
      void vscode.window.showErrorMessage(`SkyDeck: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  const missing = [...Object.entries(task.envs ?? {}), ...Object.entries(task.secrets ?? {})].filter(([, v]) => v === null).map(([k]) => k);
  const values: Record<string, string> = {};
  for (const key of missing) {
    const secret = task.secrets !== undefined && key in task.secrets;
    const value = await vscode.window.showInputBox({ title: `SkyDeck: value for ${key}`, prompt: `The task requires ${secret ? 'secret' : 'env'} ${key}`, password: secret, ignoreFocusOut: true });
    if (value === undefined) return undefined;
    values[key] = value;
  }
  return { uri, text, task: missing.length > 0 ? fillEnvs(task, values) : task };
}

export async function pickClusterName(s: Services, task: Task): Promise<string | undefined> {
  const existing = s.clusters.list();
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { name: string }>();
  pick.title = 'SkyDeck: Cluster';
  pick.placeholder = 'Cluster to launch on: pick one or type a new name';
  pick.ignoreFocusOut = true;
  const existingItems = existing.map((c) => ({ label: c.name, name: c.name, description: `${c.status} · ${describeResources(c.resources, c.numNodes)}` }));
  const suggestion = defaultClusterName(task, existing.map((c) => c.name));
  let offered = '';
  const update = () => {
    const typed = pick.value.trim();
    const extra = typed ? (existing.some((c) => c.name === typed) ? '' : typed) : existing.some((c) => c.name === suggestion) ? '' : suggestion;
    // Items are replaced only when the offered new name changes, so the focused row stays put while typing.
    if (extra === offered && pick.items.length > 0) return;
    offered = extra;
    const valid = CLUSTER_NAME.test(extra);
    const fresh = extra ? [{ label: extra, name: extra, description: valid ? 'new cluster' : 'not a valid name: lowercase letters, digits and -, starting with a letter' }] : [];
    pick.items = [...fresh, ...existingItems];
  };
  update();
  const disposables = [pick.onDidChangeValue(update)];
  try {
    return await new Promise<string | undefined>((resolve) => {
      disposables.push(
        pick.onDidAccept(() => {
          // A name typed in full means that name, whichever row happens to be focused.
          const typed = pick.value.trim();
          const chosen = existing.some((c) => c.name === typed) ? typed : (pick.activeItems[0]?.name ?? typed);
          // An invalid name stays in the box; its row already says why.
          if (!CLUSTER_NAME.test(chosen)) return;
          resolve(chosen);
          pick.hide();
        }),
        pick.onDidHide(() => resolve(undefined)),
      );
      pick.show();
    });
  } finally {
    disposables.forEach((d) => d.dispose());
    pick.dispose();
  }
}

/** The task's name as a cluster name (`sky-` plus a counter if taken). */
export function defaultClusterName(task: Task, taken: string[]): string {
  const base = (task.name ?? 'sky').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 50) || 'sky';
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

async function confirmLaunch(s: Services, operation: 'launch' | 'exec', task: Task, clusterName: string): Promise<boolean> {
  const cluster = s.clusters.get(clusterName);
  const wanted = describeResources({ ...task.resources, infra: taskInfra(task) }, task.num_nodes ?? 1);
  const lines = [
    cluster ? `Cluster: ${clusterName} (existing, ${cluster.status}, ${describeResources(cluster.resources, cluster.numNodes)})` : `Cluster: ${clusterName} (new, will be provisioned)`,
    `Resources: ${wanted}`,
  ];
  const envs = Object.keys(task.envs ?? {});
  if (envs.length > 0) lines.push(`Envs: ${envs.join(', ')}`);
  const run = task.run?.trim().split('\n')[0];
  if (run) lines.push(`Run: ${run}${(task.run?.trim().split('\n').length ?? 0) > 1 ? ' ...' : ''}`);
  if (operation === 'launch' && !cluster) {
    // Where the server's optimizer would place it; a task no enabled infra can hold stops here.
    const client = connectedClient(s);
    if (!client) return false;
    try {
      lines.push('', (await client.plan(task, clusterName)).table);
    } catch (err) {
      void vscode.window.showErrorMessage(`SkyDeck: ${(err as Error).message}`);
      return false;
    }
  }
  const verb = operation === 'launch' ? 'Launch' : 'Exec';
  const answer = await vscode.window.showInformationMessage(`${verb} ${task.name ?? 'task'} on ${clusterName}?`, { modal: true, detail: lines.join('\n') }, verb);
  return answer === verb;
}

/** Shows the first problem with its key path, offering to open the file at that key. */
export async function showTaskIssues(uri: vscode.Uri, text: string, issues: TaskIssue[]): Promise<void> {
  const first = locateIssues(issues, text)[0]!;
  const line = first.line;
  const where = `${vscode.workspace.asRelativePath(uri)}${line ? `:${line}` : ''}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const pick = await vscode.window.showErrorMessage(`SkyDeck: ${where}: ${first.path || 'task'}: ${first.message}${more}`, 'Go to Problem');
  if (pick !== 'Go to Problem') return;
  const editor = await vscode.window.showTextDocument(uri);
  if (line) {
    const position = new vscode.Position(line - 1, 0);
    editor.selection = new vscode.Selection(position, editor.document.lineAt(line - 1).range.end);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
  }
}

/**
 * The task file Launch on SkyDeck means without an argument: the active editor's, or else the one task file
 * shown (the walkthrough's Launch link is clicked with the walkthrough focused, the example beside it).
 */
export function shownTaskFile(): vscode.Uri | undefined {
  const active = vscode.window.activeTextEditor?.document;
  if (active) return active.uri;
  const shown = vscode.window.visibleTextEditors.filter((e) => isTaskDocument(e.document));
  return shown.length === 1 ? shown[0]!.document.uri : undefined;
}

/**
 * The walkthrough's example task, copied (once) beside the extension's global storage so it can be
 * launched and edited without touching the workspace, then opened beside the walkthrough (whose next
 * steps launch it and watch it).
 */
export async function openExampleTask(s: Services): Promise<void> {
  const target = vscode.Uri.joinPath(s.context.globalStorageUri, 'hello.sky.yaml');
  const exists = await vscode.workspace.fs.stat(target).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await vscode.workspace.fs.createDirectory(s.context.globalStorageUri);
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(s.context.extensionUri, 'media', 'walkthrough', 'hello.sky.yaml'), target);
  }
  await vscode.window.showTextDocument(target, { viewColumn: vscode.ViewColumn.Beside, preview: false });
}
