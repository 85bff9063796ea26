// Caps what one client address may hold open: TCP connections (so slow or stalled clients cannot
// exhaust the server's sockets) and WebSocket connections (each costs subscriptions and buffers).
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { fail } from '../errors';

export interface ConnectionLimitOptions {
  connectionsPerClient: number;
  webSocketsPerClient: number;
}

export class ConnectionLimits {
  private readonly connections = new Map<string, number>();
  private readonly webSockets = new Map<string, number>();

  constructor(readonly options: ConnectionLimitOptions) {}

  /** Drops connections over the cap as they arrive, before a byte is parsed. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      if (!take(this.connections, address, this.options.connectionsPerClient)) {
        socket.destroy();
        return;
      }
      socket.once('close', () => give(this.connections, address));
    });
  }

  /** Counts an upgrade against its address until the socket closes; 429 past the cap. */
  claimWebSocket(req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!take(this.webSockets, address, this.options.webSocketsPerClient)) {
      throw fail.too_many_connections(`at most ${this.options.webSocketsPerClient} WebSocket connections per client address; close some first`);
    }
    req.socket.once('close', () => give(this.webSockets, address));
  }

  webSocketsOf(address: string): number {
    return this.webSockets.get(address) ?? 0;
  }
}

function take(counts: Map<string, number>, key: string, limit: number): boolean {
  const n = counts.get(key) ?? 0;
  if (n >= limit) return false;
  counts.set(key, n + 1);
  return true;
}

function give(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
