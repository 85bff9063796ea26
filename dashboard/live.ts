// The page's WebSocket to /api/ws: the same protocol as the CLI's and the editor's live connection
// (protocol/api.ts), with the same habits: subscriptions are sent again after every reconnect, and a
// log continues from the byte offset it had reached, so nothing is shown twice or lost.
import type { ClientMessage, ServerMessage } from '../protocol/api';
import type { RequestStatus } from '../protocol/model';

export type LiveState = 'connecting' | 'open' | 'reconnecting';

interface LogSubscription {
  requestId: string;
  offset?: number;
  onData(text: string): void;
  onEnd(status: RequestStatus): void;
  onError(message: string): void;
}

export class Live {
  private socket?: WebSocket;
  private wantRequests = false;
  private wantClusters = false;
  private readonly logs = new Map<string, LogSubscription>();
  private readonly listeners = new Set<(m: ServerMessage) => void>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private retryMs = 500;
  private nextSub = 1;
  private closed = false;
  state: LiveState = 'connecting';

  constructor() {
    this.connect();
    setInterval(() => this.send({ type: 'ping' }), 15_000);
  }

  onMessage(listener: (m: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  subscribeRequests(): void {
    this.wantRequests = true;
    this.send({ type: 'subscribe-requests' });
  }

  subscribeClusters(): void {
    this.wantClusters = true;
    this.send({ type: 'subscribe-clusters' });
  }

  followLog(requestId: string, handlers: Omit<LogSubscription, 'requestId' | 'offset'>): () => void {
    const sub = `log-${this.nextSub++}`;
    const s: LogSubscription = { requestId, ...handlers };
    this.logs.set(sub, s);
    this.send({ type: 'subscribe-log', sub, requestId, follow: true });
    return () => {
      if (this.logs.delete(sub)) this.send({ type: 'unsubscribe', sub });
    };
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.setState('open');
      if (this.wantRequests) this.send({ type: 'subscribe-requests' });
      if (this.wantClusters) this.send({ type: 'subscribe-clusters' });
      for (const [sub, s] of this.logs) this.send({ type: 'subscribe-log', sub, requestId: s.requestId, follow: true, ...(s.offset !== undefined ? { offset: s.offset } : {}) });
    };
    socket.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      this.route(message);
    };
    socket.onclose = () => {
      if (this.closed) return;
      this.setState('reconnecting');
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(10_000, this.retryMs * 2);
    };
  }

  private route(message: ServerMessage): void {
    if ((message.type === 'log' || message.type === 'log-end' || message.type === 'error') && message.sub) {
      const s = this.logs.get(message.sub);
      if (s && message.type === 'log') {
        s.offset = message.offset;
        s.onData(message.data);
      } else if (s && message.type === 'log-end') {
        this.logs.delete(message.sub);
        s.onEnd(message.status);
      } else if (s && message.type === 'error') {
        this.logs.delete(message.sub);
        s.onError(message.message);
      }
    }
    for (const listener of this.listeners) listener(message);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: LiveState): void {
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }
}
