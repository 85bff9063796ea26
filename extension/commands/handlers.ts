// The table of command handlers; the type makes a missing handler a compile error. register.ts loads
// this module on the first command, so the handlers' dependencies (task schema, client) stay out of activation.
import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Services } from '../services';
import { openEndpoint } from '../endpoints/open-endpoint';
import { cancelJob, downCluster, execCommand, openTerminal, refreshClusters, startCluster, stopCluster, viewJobLogs } from './clusters';
import { launchTask, openExampleTask, shownTaskFile } from './launch';
import { cancelManagedJob, viewManagedJobLogs } from './managed-jobs';
import { cancelByPick, cancelFromView, groupRequests, setRequestFilter, showRequestDetails, viewLogs } from './requests';
import { connect, openDashboard, reconnect, serverInfo, stopLocal, useLocalServer } from './server';

// Handlers take whatever VS Code passes (tree nodes, URIs, ids); each one narrows its own arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (s: Services, ...args: any[]) => unknown;

export const HANDLERS: Record<CommandId, Handler> = {
  [COMMANDS.launchTask]: (s, uri?: vscode.Uri) => launchTask(s, uri instanceof vscode.Uri ? uri : undefined),
  [COMMANDS.launchTaskFile]: (s, uri?: vscode.Uri) => launchTask(s, uri instanceof vscode.Uri ? uri : shownTaskFile()),
  [COMMANDS.openExampleTask]: openExampleTask,
  [COMMANDS.openLaunchForm]: (s, uri?: vscode.Uri) => s.panels.showLaunch(uri instanceof vscode.Uri ? uri : undefined),
  [COMMANDS.viewLogs]: viewLogs,
  [COMMANDS.showRequestDetails]: showRequestDetails,
  [COMMANDS.cancelRequest]: cancelFromView,
  [COMMANDS.cancelRequests]: (s) => cancelByPick(s),
  [COMMANDS.showOngoing]: (s) => setRequestFilter(s, { showFinished: false }),
  [COMMANDS.showAllRequests]: (s) => setRequestFilter(s, { showFinished: true }),
  [COMMANDS.showMine]: (s) => setRequestFilter(s, { allUsers: false }),
  [COMMANDS.showEveryone]: (s) => setRequestFilter(s, { allUsers: true }),
  [COMMANDS.groupRequests]: groupRequests,
  [COMMANDS.refreshClusters]: (s) => refreshClusters(s),
  [COMMANDS.stopCluster]: stopCluster,
  [COMMANDS.startCluster]: startCluster,
  [COMMANDS.downCluster]: downCluster,
  [COMMANDS.execOnCluster]: execCommand,
  [COMMANDS.openTerminal]: openTerminal,
  [COMMANDS.openEndpoint]: openEndpoint,
  [COMMANDS.viewJobLogs]: viewJobLogs,
  [COMMANDS.cancelJob]: cancelJob,
  [COMMANDS.refreshManagedJobs]: (s) => s.managedJobs?.refresh(),
  [COMMANDS.viewManagedJobLogs]: (s, node?: unknown) => viewManagedJobLogs(s, node),
  [COMMANDS.viewManagedJobControllerLog]: (s, node?: unknown) => viewManagedJobLogs(s, node, true),
  [COMMANDS.cancelManagedJob]: cancelManagedJob,
  [COMMANDS.connect]: connect,
  [COMMANDS.useLocalServer]: useLocalServer,
  [COMMANDS.reconnect]: reconnect,
  [COMMANDS.serverInfo]: serverInfo,
  [COMMANDS.openDashboard]: openDashboard,
  [COMMANDS.stopLocalServer]: stopLocal,
  [COMMANDS.showExtensionLog]: (s) => s.logChannel.show(),
};
