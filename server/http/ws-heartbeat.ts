// A WebSocket client that vanished without closing (a laptop shut, a network gone) sends no close frame
// and would hold its subscriptions, shell or forward forever. Every HEARTBEAT_MS each watched client is
// pinged, and one that has not answered the previous ping is cut.
import type { WebSocket, WebSocketServer } from 'ws';
import { HEARTBEAT_MS } from '../../protocol/wire';

export class Heartbeat {
  /** Per watched client: whether it answered since the last ping. */
  private readonly answered = new WeakMap<WebSocket, boolean>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly wss: WebSocketServer,
    intervalMs = HEARTBEAT_MS,
  ) {
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  /** Watches a client the server has just accepted. */
  watch(ws: WebSocket): void {
    this.answered.set(ws, true);
    ws.on('pong', () => this.answered.set(ws, true));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    for (const ws of this.wss.clients) {
      const answered = this.answered.get(ws);
      if (answered === undefined) continue;
      if (!answered) {
        ws.terminate();
        continue;
      }
      this.answered.set(ws, false);
      ws.ping();
    }
  }
}
