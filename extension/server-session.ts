// Owns the connection to the current API server and feeds its events into the models; a new
// endpoint (setting or Connect command) replaces the connection, the models stay.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { skydeckHome } from '../client/home';
import type { ServerMessage } from '../protocol/api';
import { SETTINGS } from './command-ids';
import type { Connection, ConnectionState } from './connection/connection';
import { setContext } from './context-keys';
import { Disposable } from './disposable';
import type { Logger } from './logger';
import type { ClustersModel } from './model/clusters-model';
import type { RequestsModel } from './model/requests-model';
import type { CredentialStore } from './secrets';

export class ServerSession extends Disposable {
  private current: Connection | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** Fires when the connection is replaced or its state changes. */
  readonly onDidChange = this.changed.event;
  private connectionListeners: { dispose(): void }[] = [];
  /** Off after the user stopped the local server, until they reconnect. */
  private autoStartAllowed = true;
  /** Set while useEndpoint writes the setting, so the change does not restart the connection twice. */
  private applyingEndpoint = false;
  private attempts = 0;
  readonly home = skydeckHome();

  constructor(
    private readonly extensionPath: string,
    private readonly credentials: CredentialStore,
    private readonly requests: RequestsModel,
    private readonly clusters: ClustersModel,
    private readonly logger: Logger,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`skydeck.${SETTINGS.endpoint}`) && !this.applyingEndpoint) void this.restart();
      }),
    );
    this._register({ dispose: () => this.dropConnection() });
  }

  get connection(): Connection | undefined {
    return this.current;
  }

  get state(): ConnectionState {
    return this.current?.state ?? 'connecting';
  }

  suppressAutoStart(): void {
    this.autoStartAllowed = false;
  }

  allowAutoStart(): void {
    this.autoStartAllowed = true;
  }

  /** Resolves the endpoint and connects; safe to call again (it replaces the connection). */
  async restart(): Promise<void> {
    this.dropConnection();
    const attempt = ++this.attempts;
    const config = vscode.workspace.getConfiguration('skydeck');
    const { openConnection } = await import('./connection/open');
    const connection = await openConnection({
      home: this.home,
      setting: config.get<string>(SETTINGS.endpoint),
      storedCredentials: (url) => this.credentials.get(url),
      moveUrlCredentials: async (url, credentials) => {
        // Credentials typed into the setting are honoured, but moved out of it into the secret store.
        await this.credentials.set(url, credentials);
        await this.updateSetting(url);
        void vscode.window.showInformationMessage('SkyDeck: moved the credentials from skydeck.apiServerEndpoint into the secret store.');
      },
      autoStart: config.get<boolean>(SETTINGS.autoStart, true),
      mayStartLocalServer: () => this.autoStartAllowed,
      localServer: this.localServerOptions(),
      logger: this.logger,
      reportBadEndpoint: (message) => void vscode.window.showErrorMessage(`SkyDeck: ${message}`),
    });
    // A newer restart (a settings change meanwhile) wins.
    if (attempt !== this.attempts || this.isDisposed) return connection.dispose();
    this.current = connection;
    this.logger.info(`endpoint ${connection.endpoint.url} (from ${connection.endpoint.source})`);
    setContext('skydeck.localServer', connection.endpoint.local);
    this.connectionListeners = [
      connection.onDidChangeState((state) => this.onState(connection, state)),
      connection.onMessage((m) => this.onMessage(m)),
    ];
    this.onState(connection, connection.state);
    await connection.connect();
  }

  /** Saves a remote endpoint (its credentials to SecretStorage) or, given nothing, goes back to the default; then connects. */
  async useEndpoint(text: string | undefined): Promise<void> {
    if (text) {
      const { splitCredentials } = await import('./connection/open');
      const { endpoint, urlCredentials } = splitCredentials(text);
      if (urlCredentials) await this.credentials.set(endpoint.url, urlCredentials);
      await this.updateSetting(endpoint.url);
    } else {
      await this.updateSetting(undefined);
    }
    await this.restart();
  }

  /** How the bundled server is started: VS Code's own runtime, acting as Node. */
  localServerOptions() {
    return {
      home: this.home,
      serverScript: join(this.extensionPath, 'dist', 'server.js'),
      runtime: process.execPath,
      env: { ELECTRON_RUN_AS_NODE: '1' },
      onProgress: (message: string) => this.logger.info(message),
    };
  }

  private async updateSetting(value: string | undefined): Promise<void> {
    this.applyingEndpoint = true;
    try {
      await vscode.workspace.getConfiguration('skydeck').update(SETTINGS.endpoint, value, vscode.ConfigurationTarget.Global);
    } finally {
      this.applyingEndpoint = false;
    }
  }

  private onState(connection: Connection, state: ConnectionState): void {
    if (connection !== this.current) return;
    setContext('skydeck.connection', state);
    if (state === 'connected' && connection.health) this.requests.userId = connection.health.user.id;
    if (state === 'unreachable' || state === 'unauthorized') {
      this.requests.clear();
      this.clusters.clear();
    }
    this.changed.fire();
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'requests-snapshot':
        this.requests.replaceAll(message.requests);
        break;
      case 'request':
        this.requests.upsert(message.request);
        break;
      case 'clusters-snapshot':
        this.clusters.replaceAll(message.clusters);
        break;
      case 'cluster':
        if (message.event === 'removed') this.clusters.remove(message.cluster.name);
        else this.clusters.upsert(message.cluster);
        break;
      case 'job':
        this.clusters.upsertJob(message.job);
        break;
    }
  }

  private dropConnection(): void {
    for (const d of this.connectionListeners) d.dispose();
    this.connectionListeners = [];
    this.current?.dispose();
    this.current = undefined;
  }
}
