// Owns the connection to the current API server and feeds its events into the models; a new
// endpoint (setting or Connect command) replaces the connection, the models stay.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { authorizationOf, withCredentials } from '../client/auth/credentials';
import type { Endpoint } from '../client/endpoint';
import { ClientError } from '../client/errors';
import { skydeckHome } from '../client/home';
import { resolveIdentity } from '../client/identity';
import { ensureServer } from '../client/local-server';
import { DEFAULT_ENDPOINT, type ServerMessage } from '../protocol/api';
import { SETTINGS } from './command-ids';
import { Connection, type ConnectionState } from './connection/connection';
import { resolveExtensionEndpoint, splitCredentials } from './connection/endpoint';
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
    const config = vscode.workspace.getConfiguration('skydeck');
    let endpoint: Endpoint;
    try {
      const resolved = resolveExtensionEndpoint(config.get<string>(SETTINGS.endpoint), this.home);
      endpoint = resolved.endpoint;
      // Credentials typed into the setting are honoured, but moved out of it into the secret store.
      if (resolved.urlCredentials) {
        await this.credentials.set(endpoint.url, resolved.urlCredentials);
        await this.updateSetting(endpoint.url);
        void vscode.window.showInformationMessage('SkyDeck: moved the credentials from skydeck.apiServerEndpoint into the secret store.');
      }
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      void vscode.window.showErrorMessage(`SkyDeck: ${err.message}`);
      endpoint = resolveExtensionEndpoint(DEFAULT_ENDPOINT, this.home).endpoint;
    }
    // The secret store first; then what the CLI would send (SKYDECK_API_TOKEN, its saved login, or
    // the local server's token), so both clients reach the same server as the same user.
    const stored = await this.credentials.get(endpoint.url);
    endpoint = stored ? { ...endpoint, authorization: authorizationOf(stored) } : withCredentials(endpoint, this.home);
    const autoStart = config.get<boolean>(SETTINGS.autoStart, true);
    const connection = new Connection({
      endpoint,
      user: resolveIdentity(this.home),
      startLocalServer: autoStart ? (client) => ensureServer(client, this.localServerOptions()) : undefined,
      mayStartLocalServer: () => this.autoStartAllowed,
      logger: this.logger,
    });
    this.current = connection;
    this.logger.info(`endpoint ${endpoint.url} (from ${endpoint.source})`);
    setContext('skydeck.localServer', endpoint.local);
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
