// Owns the connection to the current API server and feeds its events into the models; a new
// endpoint (setting or Connect command) replaces the connection, the models stay.
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { ServerMessage } from '../protocol/api';
import { SETTINGS } from './command-ids';
import type { Credentials } from './connection/api-client';
import { Connection, type ConnectionState } from './connection/connection';
import { EndpointError, parseEndpoint, resolveEndpoint, skydeckHome, type Endpoint } from './connection/endpoint';
import { localIdentity } from './connection/identity';
import { startLocalServer } from './connection/local-server';
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
  private connectionListeners: vscode.Disposable[] = [];
  /** Off after the user stopped the local server, until they reconnect. */
  private autoStartAllowed = true;
  /** Set while useEndpoint writes the setting, so the change does not restart the connection twice. */
  private applyingEndpoint = false;

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

  /** The data folder of the local server: where it writes server.json. */
  get localDataDir(): string {
    return join(skydeckHome(), 'server');
  }

  /** Resolves the endpoint and connects; safe to call again (it replaces the connection). */
  async restart(): Promise<void> {
    this.dropConnection();
    const config = vscode.workspace.getConfiguration('skydeck');
    let endpoint: Endpoint;
    try {
      endpoint = resolveEndpoint(config.get<string>(SETTINGS.endpoint));
    } catch (err) {
      if (!(err instanceof EndpointError)) throw err;
      void vscode.window.showErrorMessage(`SkyDeck: the API server endpoint is not valid: ${err.message}`);
      endpoint = parseEndpoint('http://127.0.0.1:46590', 'default');
    }
    let credentials: Credentials | undefined = endpoint.basicAuth && { kind: 'basic', ...endpoint.basicAuth };
    credentials ??= await this.credentials.get(endpoint.url);
    const connection = new Connection({
      endpoint,
      identity: localIdentity(skydeckHome()),
      credentials,
      startLocalServer: config.get<boolean>(SETTINGS.autoStart, true) ? () => this.startLocal(endpoint) : undefined,
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

  suppressAutoStart(): void {
    this.autoStartAllowed = false;
  }

  allowAutoStart(): void {
    this.autoStartAllowed = true;
  }

  /** Saves a remote endpoint (credentials to SecretStorage) and connects to it. */
  async useEndpoint(text: string | undefined): Promise<void> {
    const config = vscode.workspace.getConfiguration('skydeck');
    const endpoint = text ? parseEndpoint(text, 'setting') : undefined;
    if (endpoint?.basicAuth) await this.credentials.set(endpoint.url, { kind: 'basic', ...endpoint.basicAuth });
    this.applyingEndpoint = true;
    try {
      await config.update(SETTINGS.endpoint, endpoint?.url, vscode.ConfigurationTarget.Global);
    } finally {
      this.applyingEndpoint = false;
    }
    await this.restart();
  }

  private async startLocal(endpoint: Endpoint): Promise<void> {
    const url = new URL(endpoint.url);
    const pid = await startLocalServer({
      serverScript: join(this.extensionPath, 'dist', 'server.js'),
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      dataDir: this.localDataDir,
      isHealthy: () => this.current!.client.health(1000).then(() => true, () => false),
    });
    if (pid) this.logger.info(`started the local API server (pid ${pid}) at ${endpoint.url}`);
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
