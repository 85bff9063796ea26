// One live connection to the API server: checks health (starting the local server when allowed),
// keeps a WebSocket open with reconnects, and hands out its events and log streams.
import WebSocket from 'ws';
import { HEARTBEAT_MS, type ClientMessage, type HealthResponse, type ServerMessage } from '../../protocol/api';
import type { RequestStatus, User } from '../../protocol/model';
import type { Logger } from '../logger';
import { Signal, type Unsubscribe } from '../model/signal';
import { ApiClient, ApiError, type Credentials } from './api-client';
import { webSocketUrl, type Endpoint } from './endpoint';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'unreachable' | 'unauthorized';

export interface ConnectionOptions {
  endpoint: Endpoint;
  identity: User;
  credentials?: Credentials;
  /** Starts the local server; called when the endpoint is local, nothing answers, and auto-start is on. */
  startLocalServer?: (client: ApiClient) => Promise<void>;
  /** Asked before each start: false after the user stopped the local server on purpose. */
  mayStartLocalServer?: () => boolean;
  logger: Logger;
}

export interface LogHandlers {
  data(text: string): void;
  end(status: RequestStatus): void;
  /** The stream restarts from the beginning (after a reconnect): drop what was shown. */
  reset(): void;
  error(message: string): void;
}

interface LogSubscription {
  requestId: string;
  follow: boolean;
  tail?: number;
  handlers: LogHandlers;
  /** Sent at least once: a later subscription (after a reconnect) starts the log over. */
  started: boolean;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export class Connection {
  readonly client: ApiClient;
  private readonly stateChanged = new Signal<ConnectionState>();
  private readonly messages = new Signal<ServerMessage>();
  readonly onDidChangeState = this.stateChanged.event;
  /** Every WebSocket message except log chunks, which go to their subscribers. */
  readonly onMessage = this.messages.event;
  private currentState: ConnectionState = 'connecting';
  private socket: WebSocket | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retryMs = RETRY_MIN_MS;
  private lastMessageAt = 0;
  private disposed = false;
  private opening: Promise<void> | undefined;
  private nextSub = 1;
  private readonly logSubs = new Map<string, LogSubscription>();
  health: HealthResponse | undefined;
  lastError: string | undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.client = new ApiClient({ endpoint: options.endpoint.url, identity: options.identity, credentials: options.credentials });
  }

  get endpoint(): Endpoint {
    return this.options.endpoint;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Connects now (or retries at once when waiting to); resolves when the attempt has settled. */
  connect(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    clearTimeout(this.retryTimer);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  send(message: ClientMessage): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Streams a request's log over the WebSocket; survives reconnects (restarting with `reset`). */
  subscribeLog(requestId: string, options: { follow: boolean; tail?: number }, handlers: LogHandlers): Unsubscribe {
    const sub = `log-${this.nextSub++}`;
    const subscription: LogSubscription = { requestId, ...options, handlers, started: false };
    this.logSubs.set(sub, subscription);
    this.startLog(sub, subscription);
    return {
      dispose: () => {
        if (this.logSubs.delete(sub)) this.send({ type: 'unsubscribe', sub });
      },
    };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.socket?.removeAllListeners();
    this.socket?.on('error', () => {});
    this.socket?.terminate();
    this.logSubs.clear();
    this.stateChanged.dispose();
    this.messages.dispose();
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.logger.info(`connection ${state}${this.lastError && state !== 'connected' ? `: ${this.lastError}` : ''}`);
    this.stateChanged.fire(state);
  }

  private async open(): Promise<void> {
    const { logger, endpoint } = this.options;
    try {
      this.health = await this.healthOrStart();
    } catch (err) {
      this.lastError = (err as Error).message;
      if (err instanceof ApiError && err.unauthorized) {
        this.setState('unauthorized');
        return;
      }
      this.setState(this.currentState === 'connected' || this.currentState === 'reconnecting' ? 'reconnecting' : 'unreachable');
      this.scheduleRetry();
      return;
    }
    if (this.disposed) return;
    logger.info(`server ${endpoint.url} is SkyDeck ${this.health.version} (${this.health.commit}); you are ${this.health.user.name} (${this.health.user.id})`);
    await this.openSocket();
  }

  private async healthOrStart(): Promise<HealthResponse> {
    try {
      return await this.client.health();
    } catch (err) {
      const start = this.options.startLocalServer;
      const allowed = this.options.mayStartLocalServer?.() ?? true;
      if (!(err instanceof ApiError && err.unreachable && this.options.endpoint.local && start && allowed)) throw err;
      this.options.logger.info(`nothing answers at ${this.options.endpoint.url}; starting the bundled server`);
      await start(this.client);
      return this.client.health();
    }
  }

  private openSocket(): Promise<void> {
    return new Promise((resolve) => {
      const socket = new WebSocket(webSocketUrl(this.options.endpoint.url), { headers: this.client.connectionHeaders, handshakeTimeout: 5000 });
      this.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        this.retryMs = RETRY_MIN_MS;
        this.lastMessageAt = Date.now();
        this.lastError = undefined;
        this.send({ type: 'subscribe-requests' });
        this.send({ type: 'subscribe-clusters' });
        for (const [sub, s] of this.logSubs) this.startLog(sub, s);
        this.startHeartbeat(socket);
        this.setState('connected');
        resolve();
      });
      socket.on('message', (data) => {
        this.lastMessageAt = Date.now();
        this.dispatch(String(data));
      });
      socket.on('unexpected-response', (_req, res) => {
        this.lastError = `WebSocket upgrade refused: HTTP ${res.statusCode}`;
        if (res.statusCode === 401 || res.statusCode === 403) this.setState('unauthorized');
        socket.terminate();
      });
      socket.on('error', (err) => {
        this.lastError = err.message;
      });
      socket.on('close', () => {
        clearInterval(this.heartbeat);
        if (this.socket === socket) this.socket = undefined;
        if (this.disposed) return resolve();
        if (this.currentState !== 'unauthorized') {
          this.setState(opened ? 'reconnecting' : this.currentState === 'connecting' ? 'unreachable' : this.currentState);
          this.scheduleRetry();
        }
        resolve();
      });
    });
  }

  private startHeartbeat(socket: WebSocket): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      // The server writes at least every HEARTBEAT_MS; twice that in silence means the link is dead.
      if (Date.now() - this.lastMessageAt > 2 * HEARTBEAT_MS + 5000) {
        this.lastError = 'no heartbeat from the server';
        socket.terminate();
        return;
      }
      this.send({ type: 'ping' });
    }, HEARTBEAT_MS);
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private startLog(sub: string, s: LogSubscription): void {
    const restarting = s.started;
    if (!this.send({ type: 'subscribe-log', sub, requestId: s.requestId, follow: s.follow, ...(s.tail !== undefined ? { tail: s.tail } : {}) })) return;
    if (restarting) s.handlers.reset();
    s.started = true;
  }

  private dispatch(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      this.options.logger.warn(`ignoring a WebSocket message that is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    switch (message.type) {
      case 'log':
        this.logSubs.get(message.sub)?.handlers.data(message.data);
        return;
      case 'log-end': {
        const s = this.logSubs.get(message.sub);
        this.logSubs.delete(message.sub);
        s?.handlers.end(message.status);
        return;
      }
      case 'error':
        if (message.sub && this.logSubs.has(message.sub)) {
          const s = this.logSubs.get(message.sub)!;
          this.logSubs.delete(message.sub);
          s.handlers.error(message.message);
          return;
        }
        this.options.logger.warn(`server: ${message.code}: ${message.message}`);
        return;
      case 'pong':
        return;
      default:
        this.messages.fire(message);
    }
  }
}
