// Activation: makes the models, the connection, the views, the commands and the panels, and
// registers each for disposal. Activation stays quick: connecting, command handlers and panels load
// their heavier modules (client/, the task schema) with import() when first needed.
import * as vscode from 'vscode';
import { COMMANDS, SETTINGS } from './command-ids';
import { registerCommands } from './commands/register';
import { setContext } from './context-keys';
import { LogChannels } from './logs/log-channels';
import type { Logger } from './logger';
import { ClustersModel } from './model/clusters-model';
import { RequestsModel, type RequestFilter } from './model/requests-model';
import { FinishedRequestNotifier } from './notifications/finished-requests';
import { Panels } from './panels/panels';
import { CredentialStore } from './secrets';
import { ServerSession } from './server-session';
import type { Services } from './services';
import { TaskServerFacts } from './tasks/server-facts';
import { isTaskDocument, TaskCodeLensProvider } from './tasks/task-files';
import { TaskLanguageFeatures } from './tasks/task-language';
import { ClustersTreeProvider } from './views/clusters-tree';
import { ManagedJobsTreeProvider } from './views/managed-jobs-tree';
import { RequestsTreeProvider } from './views/requests-tree';
import { StatusBar } from './views/status-bar';

export interface SkyDeckApi {
  /** Wall-clock milliseconds activate() took; the extension-host tests read it. */
  activationMs: number;
  /** CPU milliseconds activate() used: what the extension itself costs, apart from a busy machine's waits. */
  activationCpuMs: number;
  services: Services;
}

export function activate(context: vscode.ExtensionContext): SkyDeckApi {
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const logChannel = vscode.window.createOutputChannel('SkyDeck', { log: true });
  const logger: Logger = {
    trace: (m) => logChannel.trace(m),
    info: (m) => logChannel.info(m),
    warn: (m) => logChannel.warn(m),
    error: (m) => logChannel.error(m),
  };
  const config = vscode.workspace.getConfiguration('skydeck');
  const savedFilter = context.workspaceState.get<Partial<RequestFilter>>('skydeck.requestFilter');
  const requests = new RequestsModel({
    showFinished: savedFilter?.showFinished ?? false,
    allUsers: savedFilter?.allUsers ?? config.get<boolean>(SETTINGS.showAllUsers, false),
    grouping: savedFilter?.grouping ?? 'flat',
  });
  const clusters = new ClustersModel();
  const session = new ServerSession(context.extensionPath, new CredentialStore(context.secrets), requests, clusters, logger);
  const panels = new Panels();
  const logs = new LogChannels(session, logger);
  const finished = new FinishedRequestNotifier({ requests, logs, panels, logger });
  const services: Services = { context, session, requests, clusters, logs, panels, logger, logChannel, finished };
  panels.attach(services);

  setContext('skydeck.connection', 'connecting');
  setContext('skydeck.requests.showFinished', requests.filter.showFinished);
  setContext('skydeck.requests.allUsers', requests.filter.allUsers);

  const requestsTree = new RequestsTreeProvider(requests);
  const requestsView = vscode.window.createTreeView('skydeck.requests', { treeDataProvider: requestsTree, canSelectMany: true, showCollapseAll: false });
  const clustersTree = new ClustersTreeProvider(clusters, requests, session, logger);
  const clustersView = vscode.window.createTreeView('skydeck.clusters', { treeDataProvider: clustersTree, showCollapseAll: true });
  const managedJobsTree = new ManagedJobsTreeProvider(session, requests, logger);
  services.managedJobs = managedJobsTree;
  const managedJobsView = vscode.window.createTreeView('skydeck.managedJobs', { treeDataProvider: managedJobsTree, showCollapseAll: false });
  const updateActiveTaskKey = (editor: vscode.TextEditor | undefined) => setContext('skydeck.activeEditorIsTask', !!editor && isTaskDocument(editor.document));
  updateActiveTaskKey(vscode.window.activeTextEditor);
  const taskFacts = new TaskServerFacts(session, logger);

  context.subscriptions.push(
    logChannel,
    requests,
    clusters,
    session,
    logs,
    panels,
    finished,
    requestsTree,
    requestsView,
    clustersTree,
    clustersView,
    managedJobsTree,
    managedJobsView,
    managedJobsView.onDidChangeVisibility((e) => managedJobsTree.setVisible(e.visible)),
    new StatusBar(session),
    taskFacts,
    new TaskLanguageFeatures(taskFacts, logger),
    ...registerCommands(services),
    vscode.languages.registerCodeLensProvider([{ language: 'yaml' }, { pattern: '**/*.{yaml,yml}' }], new TaskCodeLensProvider()),
    vscode.window.onDidChangeActiveTextEditor(updateActiveTaskKey),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (doc === vscode.window.activeTextEditor?.document) updateActiveTaskKey(vscode.window.activeTextEditor);
    }),
    requests.onDidChange(() => {
      requestsView.badge = badge(requests.ongoing().filter((r) => requests.isMine(r)).length);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`skydeck.${SETTINGS.showAllUsers}`)) return;
      const allUsers = vscode.workspace.getConfiguration('skydeck').get<boolean>(SETTINGS.showAllUsers, false);
      void vscode.commands.executeCommand(allUsers ? COMMANDS.showEveryone : COMMANDS.showMine);
    }),
    vscode.window.onDidChangeWindowState((state) => {
      if (!state.focused || !vscode.workspace.getConfiguration('skydeck').get<boolean>(SETTINGS.refreshOnFocus, true)) return;
      const connection = session.connection;
      if (connection && (connection.state === 'reconnecting' || connection.state === 'unreachable')) void connection.connect();
      else void vscode.commands.executeCommand(COMMANDS.refreshClusters);
    }),
  );
  void session.restart().catch((err: Error) => logger.error(err));
  const activationMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  const activationCpuMs = (cpu.user + cpu.system) / 1000;
  logger.info(`activated in ${activationMs.toFixed(1)} ms (${activationCpuMs.toFixed(1)} ms CPU)`);
  return { activationMs, activationCpuMs, services };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; the local server keeps running for other clients.
}

function badge(running: number): vscode.ViewBadge | undefined {
  return running > 0 ? { value: running, tooltip: `${running} of your requests are pending or running` } : undefined;
}
