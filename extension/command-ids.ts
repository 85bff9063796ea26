// Every command the extension contributes. The manifest test checks this list against package.json,
// and the extension-host test checks that each is registered.

export const COMMANDS = {
  launchTask: 'skydeck.launchTask',
  launchTaskFile: 'skydeck.launchTaskFile',
  openLaunchForm: 'skydeck.openLaunchForm',
  openExampleTask: 'skydeck.openExampleTask',
  viewLogs: 'skydeck.viewLogs',
  showRequestDetails: 'skydeck.showRequestDetails',
  cancelRequest: 'skydeck.cancelRequest',
  cancelRequests: 'skydeck.cancelRequests',
  showOngoing: 'skydeck.requests.showOngoing',
  showAllRequests: 'skydeck.requests.showAll',
  showMine: 'skydeck.requests.showMine',
  showEveryone: 'skydeck.requests.showEveryone',
  groupRequests: 'skydeck.requests.groupBy',
  refreshClusters: 'skydeck.clusters.refresh',
  stopCluster: 'skydeck.cluster.stop',
  startCluster: 'skydeck.cluster.start',
  downCluster: 'skydeck.cluster.down',
  execOnCluster: 'skydeck.cluster.exec',
  openTerminal: 'skydeck.cluster.openTerminal',
  openEndpoint: 'skydeck.cluster.openEndpoint',
  viewJobLogs: 'skydeck.job.viewLogs',
  cancelJob: 'skydeck.job.cancel',
  refreshManagedJobs: 'skydeck.managedJobs.refresh',
  viewManagedJobLogs: 'skydeck.managedJob.viewLogs',
  viewManagedJobControllerLog: 'skydeck.managedJob.viewControllerLog',
  cancelManagedJob: 'skydeck.managedJob.cancel',
  connect: 'skydeck.connect',
  useLocalServer: 'skydeck.useLocalServer',
  reconnect: 'skydeck.reconnect',
  serverInfo: 'skydeck.serverInfo',
  openDashboard: 'skydeck.openDashboard',
  stopLocalServer: 'skydeck.stopLocalServer',
  showExtensionLog: 'skydeck.showExtensionLog',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** The settings the extension reads, all under `skydeck.`; the manifest test checks each is contributed. */
export const SETTINGS = {
  endpoint: 'apiServerEndpoint',
  autoStart: 'autoStartLocalServer',
  logTail: 'logTailLines',
  showAllUsers: 'showAllUsers',
  refreshOnFocus: 'refreshOnFocus',
  taskFilePatterns: 'taskFiles.patterns',
  taskFileKeys: 'taskFiles.topLevelKeys',
  checkTaskFiles: 'taskFiles.check',
  notifyFinished: 'notifyWhenRequestsFinish',
} as const;
