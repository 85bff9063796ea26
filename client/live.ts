// A live WebSocket connection to the server: request, cluster and log events, re-subscribed after every reconnect.
import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../protocol/api';
import { HEARTBEAT_MS } from '../protocol/wire';
import type { RequestStatus } from '../protocol/model';
import type { ApiClient } from './api-client';
import { Emitter, type Event } from './event';
import { toDisposable, type Disposable } from './lifecycle';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the socket closed: the server refused the upgrade (with its HTTP status), or the network failed. */
export type LiveError = { kind: 'refused'; status: number; message: string } | { kind: 'network'; message: string };

export interface LiveStateChange {
  state: LiveState;
  error?: LiveError;
}

export interface LogFollower {
  onData(text: string): void;
  onEnd(status: RequestStatus): void;
  onError?(message: string): void;
}

export interface LiveOptions {
  /** First reconnect delay; doubles up to maxRetryMs while the server stays away. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** How often to ping; a connection silent for twice this long is dropped and reopened. */
  pingMs?: number;
}

interface LogSubscription {
  requestId: string;
  follow: boolean;
  tail?: number;
  follower: LogFollower;
  /** Once data has arrived, a resubscription continues from this byte offset rather than replaying the log. */
  offset?: number;
}

export class LiveConnection {
  private socket?: WebSocket;
  private state: LiveState = 'connecting';
  private closedByUs = false;
  private wantRequests = false;
  private wantClusters = false;
  private readonly logs = new Map<string, LogSubscription>();
  private readonly messages = new Emitter<ServerMessage>();
  private readonly states = new Emitter<LiveStateChange>();
  /** Every message the server sends (log chunks also go to their followers). */
  readonly onMessage: Event<ServerMessage> = this.messages.event;
  readonly onState: Event<LiveStateChange> = this.states.event;
  private retryMs: number;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private lastHeardAt = 0;
  private nextSub = 1;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly pingMs: number;

  constructor(
    private readonly client: ApiClient,
    options: LiveOptions = {},
  ) {
    this.minRetryMs = options.minRetryMs ?? 500;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    this.pingMs = options.pingMs ?? HEARTBEAT_MS;
    this.retryMs = this.minRetryMs;
    this.connect();
  }

  get current(): LiveState {
    return this.state;
  }

  /** Request events for everyone's requests; a `requests-snapshot` follows every (re)connect. */
  subscribeRequests(): void {
    this.wantRequests = true;
    this.send({ type: 'subscribe-requests' });
  }

  /** Cluster and job events; a `clusters-snapshot` follows every (re)connect. */
  subscribeClusters(): void {
    this.wantClusters = true;
    this.send({ type: 'subscribe-clusters' });
  }

  /** Streams a request's log to the follower until it ends; disposing stops it early. */
  followLog(requestId: string, follower: LogFollower, options: { follow?: boolean; tail?: number } = {}): Disposable {
    const sub = `log-${this.nextSub++}`;
    const subscription: LogSubscription = { requestId, follow: options.follow ?? true, tail: options.tail, follower };
    this.logs.set(sub, subscription);
    this.sendLogSubscription(sub, subscription);
    return toDisposable(() => {
      if (this.logs.delete(sub)) this.send({ type: 'unsubscribe', sub });
    });
  }

  close(): void {
    this.closedByUs = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.close();
    this.setState('closed');
    this.messages.dispose();
    this.states.dispose();
  }

  private connect(): void {
    const { url: base, localSocket } = this.client.endpoint;
    // The owner's local server is reached over its Unix socket, with the Host its gate expects.
    const url = localSocket ? `ws+unix://${localSocket}:/api/ws` : base.replace(/^http/, 'ws') + '/api/ws';
    const headers = localSocket ? { ...this.client.headers, host: new URL(base).host } : { ...this.client.headers };
    const socket = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    this.socket = socket;
    socket.on('open', () => {
      this.retryMs = this.minRetryMs;
      this.lastHeardAt = Date.now();
      this.setState('open');
      if (this.wantRequests) this.send({ type: 'subscribe-requests' });
      if (this.wantClusters) this.send({ type: 'subscribe-clusters' });
      for (const [sub, subscription] of this.logs) this.sendLogSubscription(sub, subscription);
      this.pingTimer = setInterval(() => this.checkAlive(), this.pingMs);
    });
    socket.on('message', (data) => {
      this.lastHeardAt = Date.now();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(data)) as ServerMessage;
      } catch {
        return;
      }
      this.route(message);
    });
    let lastError: LiveError | undefined;
    socket.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      lastError = { kind: 'refused', status, message: `the server refused the WebSocket (HTTP ${status})` };
      res.resume();
      socket.terminate();
    });
    socket.on('error', (err) => {
      lastError ??= { kind: 'network', message: err.message };
    });
    socket.on('close', () => {
      clearInterval(this.pingTimer);
      if (this.closedByUs || this.socket !== socket) return;
      this.setState('reconnecting', lastError);
      // Jitter keeps many clients from reconnecting in lockstep after a server restart.
      const delay = this.retryMs * (0.75 + Math.random() * 0.5);
      this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private route(message: ServerMessage): void {
    if (message.type === 'log' || message.type === 'log-end' || (message.type === 'error' && message.sub)) {
      const sub = message.sub!;
      const subscription = this.logs.get(sub);
      if (subscription) {
        if (message.type === 'log') {
          subscription.offset = message.offset;
          subscription.follower.onData(message.data);
        } else if (message.type === 'log-end') {
          this.logs.delete(sub);
          subscription.follower.onEnd(message.status);
        } else {
          this.logs.delete(sub);
          subscription.follower.onError?.(message.message);
        }
      }
    }
    this.messages.fire(message);
  }

  private sendLogSubscription(sub: string, s: LogSubscription): void {
    // After a reconnect, continue where the last chunk ended: nothing is shown twice, nothing written meanwhile is lost.
    const start = s.offset !== undefined ? { offset: s.offset } : s.tail !== undefined ? { tail: s.tail } : {};
    this.send({ type: 'subscribe-log', sub, requestId: s.requestId, follow: s.follow, ...start });
  }

  private checkAlive(): void {
    if (Date.now() - this.lastHeardAt > 2 * this.pingMs) {
      this.socket?.terminate();
      return;
    }
    this.send({ type: 'ping' });
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: LiveState, error?: LiveError): void {
    if (this.state === state && !error) return;
    this.state = state;
    this.states.fire({ state, error });
  }
}
