// One connection to the API server, as the extension sees it: health first (starting the local server
// when allowed), then client/'s LiveConnection for events and log streams, folded into one state.
import { ApiClient } from '../../client/api-client';
import type { Endpoint } from '../../client/endpoint';
import { ApiError, ConnectionError } from '../../client/errors';
import { Emitter } from '../../client/event';
import { DisposableStore, MutableDisposable, toDisposable, type Disposable } from '../../client/lifecycle';
import { LiveConnection, type LiveStateChange, type LogFollower } from '../../client/live';
import type { HealthResponse, ServerMessage } from '../../protocol/api';
import type { User } from '../../protocol/model';
import type { Logger } from '../logger';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'unreachable' | 'unauthorized';

export interface ConnectionOptions {
  endpoint: Endpoint;
  user: User;
  /** Starts the local server when nothing answers at a local endpoint; absent when auto-start is off. */
  startLocalServer?: (client: ApiClient) => Promise<boolean>;
  /** Asked before each start: false after the user stopped the local server on purpose. */
  mayStartLocalServer?: () => boolean;
  logger: Logger;
}

/** How long to wait before trying again after the server could not be reached at all. */
const RETRY_MS = 5_000;

export class Connection {
  readonly client: ApiClient;
  private readonly stateChanged = new Emitter<ConnectionState>();
  private readonly messages = new Emitter<ServerMessage>();
  readonly onDidChangeState = this.stateChanged.event;
  /** Request, cluster and job events (log chunks go to their followers). */
  readonly onMessage = this.messages.event;
  private currentState: ConnectionState = 'connecting';
  /** The live socket and its subscriptions: replacing or clearing it closes the old one. */
  private readonly liveSlot = new MutableDisposable<Disposable & { live: LiveConnection }>();
  private opening: Promise<void> | undefined;
  private restarting = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  health: HealthResponse | undefined;
  lastError: string | undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.client = new ApiClient({ endpoint: options.endpoint, user: options.user, agent: 'skydeck-vscode', timeoutMs: 15_000 });
  }

  get endpoint(): Endpoint {
    return this.options.endpoint;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Connects (or retries at once); resolves when this attempt has settled either way. */
  connect(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    clearTimeout(this.retryTimer);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Streams a request's log to `follower` until the request ends; dispose to stop early. */
  followLog(requestId: string, follower: LogFollower, options: { follow?: boolean; tail?: number } = {}): Disposable {
    if (!this.live) {
      follower.onError?.('not connected to the API server');
      return toDisposable(() => undefined);
    }
    return this.live.followLog(requestId, follower, options);
  }

  private get live(): LiveConnection | undefined {
    return this.liveSlot.value?.live;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.liveSlot.dispose();
    this.client.close();
    this.stateChanged.dispose();
    this.messages.dispose();
  }

  private setState(state: ConnectionState, error?: string): void {
    if (error !== undefined) this.lastError = error;
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.logger.info(`connection ${state}${state !== 'connected' && this.lastError ? `: ${this.lastError}` : ''}`);
    this.stateChanged.fire(state);
  }

  private async open(): Promise<void> {
    try {
      this.health = await this.healthOrStart();
      // Health answers without credentials; one authenticated read tells whether we may go further.
      await this.client.listRequests({ limit: 1 });
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return this.setState('unauthorized', err.message);
      this.setState(this.live ? 'reconnecting' : 'unreachable', (err as Error).message);
      this.retryTimer = setTimeout(() => void this.connect(), RETRY_MS);
      return;
    }
    if (this.disposed) return;
    const h = this.health;
    this.options.logger.info(`server ${this.endpoint.url}: SkyDeck ${h.version} (${h.commit}), auth ${h.auth}; you are ${h.user.name} (${h.user.id})`);
    if (!this.live) this.openLive();
    else if (this.live.current === 'open') this.setState('connected');
  }

  private async healthOrStart(): Promise<HealthResponse> {
    try {
      return await this.client.health(2_000);
    } catch (err) {
      if (!(err instanceof ConnectionError) || !this.mayStart()) throw err;
      this.options.logger.info(`nothing answers at ${this.endpoint.url}; starting the bundled server`);
      if (await this.options.startLocalServer!(this.client)) this.options.logger.info(`started the local API server at ${this.endpoint.url}`);
      return this.client.health(5_000);
    }
  }

  private mayStart(): boolean {
    return this.endpoint.local && this.options.startLocalServer !== undefined && (this.options.mayStartLocalServer?.() ?? true);
  }

  private openLive(): void {
    const live = new LiveConnection(this.client);
    const store = new DisposableStore();
    store.add(
      live.onMessage((message) => {
        if (message.type === 'error' && !message.sub) this.options.logger.warn(`server: ${message.code}: ${message.message}`);
        if (message.type !== 'log' && message.type !== 'log-end' && message.type !== 'pong' && message.type !== 'error') this.messages.fire(message);
      }),
    );
    store.add(live.onState((change) => this.onLiveState(change)));
    store.add(toDisposable(() => live.close()));
    this.liveSlot.value = { live, dispose: () => store.dispose() };
    live.subscribeRequests();
    live.subscribeClusters();
  }

  private onLiveState({ state, error }: LiveStateChange): void {
    if (this.disposed) return;
    if (state === 'open') {
      this.lastError = undefined;
      this.setState('connected');
    } else if (state === 'reconnecting') {
      if (error?.kind === 'refused' && (error.status === 401 || error.status === 403)) {
        this.liveSlot.clear();
        return this.setState('unauthorized', error.message);
      }
      this.setState('reconnecting', error?.message);
      // A local server that went away (crashed, or stopped by the CLI) is started again, once at a time.
      if (this.mayStart() && !this.restarting) {
        this.restarting = true;
        void this.healthOrStart()
          .then((h) => (this.health = h))
          .catch(() => undefined)
          .finally(() => (this.restarting = false));
      }
    }
  }
}
