// Binds every contributed command to its handler; the table's type makes a missing handler a compile error.
import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Services } from '../services';
import { cancelJob, downCluster, execCommand, refreshClusters, startCluster, stopCluster, viewJobLogs } from './clusters';
import { launchTask } from './launch';
import { cancelByPick, cancelFromView, setRequestFilter, showRequestDetails, viewLogs } from './requests';
import { connect, reconnect, serverInfo, stopLocal, useLocalServer } from './server';

// Handlers take whatever VS Code passes (tree nodes, URIs, ids); each one narrows its own arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (s: Services, ...args: any[]) => unknown;

const HANDLERS: Record<CommandId, Handler> = {
  [COMMANDS.launchTask]: (s, uri?: vscode.Uri) => launchTask(s, uri instanceof vscode.Uri ? uri : undefined),
  [COMMANDS.launchTaskFile]: (s, uri?: vscode.Uri) => launchTask(s, uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri),
  [COMMANDS.openLaunchForm]: (s, uri?: vscode.Uri) => s.panels.showLaunch(uri instanceof vscode.Uri ? uri : undefined),
  [COMMANDS.viewLogs]: viewLogs,
  [COMMANDS.showRequestDetails]: showRequestDetails,
  [COMMANDS.cancelRequest]: cancelFromView,
  [COMMANDS.cancelRequests]: (s) => cancelByPick(s),
  [COMMANDS.showOngoing]: (s) => setRequestFilter(s, { showFinished: false }),
  [COMMANDS.showAllRequests]: (s) => setRequestFilter(s, { showFinished: true }),
  [COMMANDS.showMine]: (s) => setRequestFilter(s, { allUsers: false }),
  [COMMANDS.showEveryone]: (s) => setRequestFilter(s, { allUsers: true }),
  [COMMANDS.refreshClusters]: (s) => refreshClusters(s),
  [COMMANDS.stopCluster]: stopCluster,
  [COMMANDS.startCluster]: startCluster,
  [COMMANDS.downCluster]: downCluster,
  [COMMANDS.execOnCluster]: execCommand,
  [COMMANDS.viewJobLogs]: viewJobLogs,
  [COMMANDS.cancelJob]: cancelJob,
  [COMMANDS.connect]: connect,
  [COMMANDS.useLocalServer]: useLocalServer,
  [COMMANDS.reconnect]: reconnect,
  [COMMANDS.serverInfo]: serverInfo,
  [COMMANDS.stopLocalServer]: stopLocal,
  [COMMANDS.showExtensionLog]: (s) => s.logChannel.show(),
};

export function registerCommands(s: Services): vscode.Disposable[] {
  return Object.entries(HANDLERS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(s, ...args);
      } catch (err) {
        s.logger.error(err as Error);
        void vscode.window.showErrorMessage(`SkyDeck: ${(err as Error).message}`);
      }
    }),
  );
}
