// What the commands, views and panels share: one of each, made in activate().
import type * as vscode from 'vscode';
import type { LogChannels } from './logs/log-channels';
import type { Logger } from './logger';
import type { FinishedRequestNotifier } from './notifications/finished-requests';
import type { ClustersModel } from './model/clusters-model';
import type { RequestsModel } from './model/requests-model';
import type { Panels } from './panels/panels';
import type { ServerSession } from './server-session';
import type { ManagedJobsTreeProvider } from './views/managed-jobs-tree';

export interface Services {
  context: vscode.ExtensionContext;
  session: ServerSession;
  requests: RequestsModel;
  clusters: ClustersModel;
  logs: LogChannels;
  panels: Panels;
  logger: Logger;
  logChannel: vscode.LogOutputChannel;
  /** Says how requests launched from this window ended, when their output is not in view. */
  finished: FinishedRequestNotifier;
  /** The Managed Jobs view, once made. */
  managedJobs?: ManagedJobsTreeProvider;
}
