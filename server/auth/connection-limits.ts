// Caps what one client may hold open, so that no client can exhaust the server for the others: TCP
// connections (slow or stalled clients cannot take every socket), requests in flight and WebSocket
// connections (each costs subscriptions and buffers), and the server's total of connections.
//
// A client is its TCP peer (an IPv6 one by its /64: one host holds a whole /64, so rotating addresses
// within it escapes nothing), except behind a trusted proxy (--trusted-proxy), whose connections carry
// everyone's requests: there each request and upgrade counts against the client the proxy names in
// X-Forwarded-For, and the proxy's connections are bounded by the total alone. Anyone else's
// X-Forwarded-For is ignored, so a peer cannot escape its cap by naming other clients.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fail } from '../errors';
import { clientKey, type ClientAddresses } from './client-address';

export interface ConnectionLimitOptions {
  /** Open TCP connections per peer; behind a trusted proxy, requests in flight per client. */
  connectionsPerClient: number;
  webSocketsPerClient: number;
  /** Open TCP connections in all, a trusted proxy's included. */
  connections: number;
}

export class ConnectionLimits {
  private readonly connections = new Map<string, number>();
  private readonly requests = new Map<string, number>();
  private readonly webSockets = new Map<string, number>();

  constructor(
    readonly options: ConnectionLimitOptions,
    private readonly addresses: ClientAddresses,
  ) {}

  /** Drops connections over the caps as they arrive, before a byte is parsed. */
  attach(server: Server): void {
    server.maxConnections = this.options.connections;
    server.on('connection', (socket: Socket) => {
      const peer = socket.remoteAddress ?? 'unknown';
      if (this.addresses.isTrustedProxy(peer)) return;
      const client = clientKey(peer);
      if (!take(this.connections, client, this.options.connectionsPerClient)) {
        socket.destroy();
        return;
      }
      socket.once('close', () => give(this.connections, client));
    });
  }

  /**
   * Counts a request from behind a trusted proxy against its client until its response ends; 429 past
   * the cap. Other peers' requests are bounded by their connections (one request in flight on each).
   */
  claimRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!this.addresses.isTrustedProxy(req.socket.remoteAddress ?? 'unknown')) return;
    const client = this.addresses.keyOf(req);
    if (!take(this.requests, client, this.options.connectionsPerClient)) {
      throw fail.too_many_connections(`at most ${this.options.connectionsPerClient} requests in flight per client (${client}); wait for some to finish`);
    }
    res.once('close', () => give(this.requests, client));
  }

  /** Counts an upgrade against its client until the socket closes; 429 past the cap. */
  claimWebSocket(req: IncomingMessage): void {
    const client = this.addresses.keyOf(req);
    if (!take(this.webSockets, client, this.options.webSocketsPerClient)) {
      throw fail.too_many_connections(`at most ${this.options.webSocketsPerClient} WebSocket connections per client (${client}); close some first`);
    }
    req.socket.once('close', () => give(this.webSockets, client));
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
