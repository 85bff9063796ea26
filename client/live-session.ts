// The live protocol over /api/ws (protocol/api.ts), written once for every client: subscriptions sent
// again after every reconnect, a log continued from the byte offset it had reached (nothing shown twice
// or lost), reconnects with backoff and jitter, and a ping that drops a connection gone silent. It needs
// no Node: the CLI and the editor open the socket with `ws` (client/live.ts), the dashboard with the
// browser's WebSocket (dashboard/live.ts).
import type { ClientMessage, ServerMessage } from '../protocol/api';
import type { RequestStatus } from '../protocol/model';
import { HEARTBEAT_MS } from '../protocol/wire';
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

/** One open WebSocket, as the session uses it. */
export interface LiveSocket {
  send(text: string): void;
  close(): void;
  /** Drops the connection now (it has gone silent); onClose follows. */
  terminate(): void;
}

/** What a socket reports; onClose comes once, with the reason when one is known. */
export interface LiveSocketEvents {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(error?: LiveError): void;
}

/** Opens a socket to the server's /api/ws (each environment has its own WebSocket). */
export type OpenLiveSocket = (events: LiveSocketEvents) => LiveSocket;

interface LogSubscription {
  requestId: string;
  follow: boolean;
  tail?: number;
  follower: LogFollower;
  /** Once data has arrived, a resubscription continues from this byte offset rather than replaying the log. */
  offset?: number;
}

export class LiveSession {
  private socket?: LiveSocket;
  private isOpen = false;
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
  private retryTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private lastHeardAt = 0;
  private nextSub = 1;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly pingMs: number;

  constructor(
    private readonly open: OpenLiveSocket,
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
    if (this.closedByUs) return;
    this.closedByUs = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.close();
    this.setState('closed');
    this.messages.dispose();
    this.states.dispose();
  }

  private connect(): void {
    const socket = this.open({
      onOpen: () => {
        if (this.socket !== socket) return;
        this.isOpen = true;
        this.retryMs = this.minRetryMs;
        this.lastHeardAt = Date.now();
        this.setState('open');
        if (this.wantRequests) this.send({ type: 'subscribe-requests' });
        if (this.wantClusters) this.send({ type: 'subscribe-clusters' });
        for (const [sub, subscription] of this.logs) this.sendLogSubscription(sub, subscription);
        this.pingTimer = setInterval(() => this.checkAlive(), this.pingMs);
      },
      onMessage: (text) => {
        this.lastHeardAt = Date.now();
        let message: ServerMessage;
        try {
          message = JSON.parse(text) as ServerMessage;
        } catch {
          return;
        }
        this.route(message);
      },
      onClose: (error) => {
        if (this.socket !== socket) return;
        this.isOpen = false;
        clearInterval(this.pingTimer);
        if (this.closedByUs) return;
        this.setState('reconnecting', error);
        // Jitter keeps many clients from reconnecting in lockstep after a server restart.
        const delay = this.retryMs * (0.75 + Math.random() * 0.5);
        this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
        this.retryTimer = setTimeout(() => this.connect(), delay);
      },
    });
    this.socket = socket;
  }

  private route(message: ServerMessage): void {
    if ((message.type === 'log' || message.type === 'log-end' || message.type === 'error') && message.sub) {
      const subscription = this.logs.get(message.sub);
      if (subscription && message.type === 'log') {
        subscription.offset = message.offset;
        subscription.follower.onData(message.data);
      } else if (subscription && message.type === 'log-end') {
        this.logs.delete(message.sub);
        subscription.follower.onEnd(message.status);
      } else if (subscription && message.type === 'error') {
        this.logs.delete(message.sub);
        subscription.follower.onError?.(message.message);
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
    if (this.isOpen) this.socket?.send(JSON.stringify(message));
  }

  private setState(state: LiveState, error?: LiveError): void {
    if (this.state === state && !error) return;
    this.state = state;
    this.states.fire({ state, error });
  }
}
