// GET /api/ws: request and cluster events, and log streams, pushed so that no client polls.
// Upgrades are authenticated before the handshake completes; unknown paths are refused.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientMessage, type ServerMessage } from '../../protocol/api';
import { isRequestFinished, type Cluster, type Job, type RequestSummary } from '../../protocol/model';
import { FORWARD_PATH } from '../../protocol/forward';
import { TERMINAL_PATH } from '../../protocol/terminal';
import type { Principal } from '../auth/identity';
import type { Core } from '../core';
import { fail } from '../errors';
import { asSkyDeckError, httpStatus } from './errors';
import { tailOffset } from '../logs/follow';
import { logMessage } from './log-message';
import { Heartbeat } from './ws-heartbeat';
import { PortForwards } from '../forward/port-forwards';
import { TerminalSessions } from '../terminal/terminal-sessions';

const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_LOG_SUBSCRIPTIONS = 64;
/**
 * Memory for data handed to sockets but not yet taken by their clients is bounded twice: per socket
 * and for the whole server (a log message shared by many sockets counts once: it is one Buffer). A log
 * stream over either bound pauses (it reads the file again from its own offset when its client catches
 * up, so nothing is buffered meanwhile); an event stream cannot
 * wait, so a client whose events pile up past EVENT_BUFFER_BYTES is dropped with a message and
 * reconnects to a fresh snapshot.
 */
const SOCKET_BUFFER_BYTES = 1024 * 1024;
const SERVER_BUFFER_BYTES = 32 * 1024 * 1024;
const EVENT_BUFFER_BYTES = 4 * 1024 * 1024;
/** A dropped client that does not read even its close frame is cut off after this. */
const DROP_GRACE_MS = 2000;

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly heartbeat: Heartbeat;
  /** Bytes handed to every socket that their kernel buffers have not taken yet. */
  private buffered = 0;
  /** Sockets still holding each shared log message, so that its bytes are counted once. */
  private readonly holders = new WeakMap<Buffer, number>();
  readonly terminals: TerminalSessions;
  readonly forwards: PortForwards;

  constructor(
    private readonly core: Core,
    /** Checks an upgrade (Host, Origin, credentials) and throws a SkyDeckError to refuse it; resolves with the caller. */
    private readonly admit: (req: IncomingMessage) => Promise<Principal>,
  ) {
    this.terminals = new TerminalSessions(core.clusters);
    this.forwards = new PortForwards(core.clusters);
    this.heartbeat = new Heartbeat(this.wss);
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  /** The http server's `upgrade` handler. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== '/api/ws' && path !== TERMINAL_PATH && path !== FORWARD_PATH) throw fail.bad_request(`no WebSocket endpoint at ${path}`);
      const caller = await this.admit(req);
      if (path === TERMINAL_PATH) return this.terminals.accept(req, socket, head, caller);
      if (path === FORWARD_PATH) return this.forwards.accept(req, socket, head, caller);
    } catch (err) {
      const known = asSkyDeckError(err);
      const status = known ? httpStatus(known) : 500;
      const message = known ? known.message : 'internal error';
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${message}\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws));
  }

  /** Sends, counting the bytes until the socket has taken them; resolves then (or when it closes). */
  private sendCounted(ws: WebSocket, message: ServerMessage): Promise<void> {
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    this.buffered += bytes;
    return new Promise((resolve) =>
      ws.send(text, () => {
        this.buffered -= bytes;
        resolve();
      }),
    );
  }

  /** A log message shared with other sockets: sent as text, counted once however many sockets hold it. */
  private sendShared(ws: WebSocket, payload: Buffer): Promise<void> {
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    const holders = this.holders.get(payload) ?? 0;
    if (holders === 0) this.buffered += payload.length;
    this.holders.set(payload, holders + 1);
    return new Promise((resolve) =>
      ws.send(payload, { binary: false }, () => {
        const left = this.holders.get(payload)! - 1;
        if (left === 0) {
          this.buffered -= payload.length;
          this.holders.delete(payload);
        } else this.holders.set(payload, left);
        resolve();
      }),
    );
  }

  /** Events and answers: sent at once; a client they pile up for is dropped rather than buffered without bound. */
  private pushTo(ws: WebSocket, message: ServerMessage): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > EVENT_BUFFER_BYTES) {
      this.drop(ws, `this client is too slow: over ${EVENT_BUFFER_BYTES / 2 ** 20} MiB of events wait for it; reconnect for a fresh snapshot`);
      return;
    }
    void this.sendCounted(ws, message);
  }

  private drop(ws: WebSocket, why: string): void {
    void this.sendCounted(ws, { type: 'error', code: 'too_slow', message: why });
    ws.close(1008, 'too slow');
    setTimeout(() => ws.terminate(), DROP_GRACE_MS).unref();
  }

  private serve(ws: WebSocket): void {
    const send = (message: ServerMessage) => this.pushTo(ws, message);
    const cleanups = new Map<string, () => void>();
    const logStreams = new Map<string, AbortController>();
    this.heartbeat.watch(ws);

    ws.on('message', (data, isBinary) => {
      let parsed;
      try {
        parsed = clientMessage.safeParse(JSON.parse(isBinary ? '' : data.toString()));
      } catch {
        return send({ type: 'error', code: 'bad_message', message: 'messages are JSON objects' });
      }
      if (!parsed.success) return send({ type: 'error', code: 'bad_message', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ') });
      const msg = parsed.data;
      switch (msg.type) {
        case 'ping':
          return send({ type: 'pong' });
        case 'subscribe-requests': {
          if (cleanups.has('requests')) return;
          const onRequest = (event: 'created' | 'updated', request: RequestSummary) => send({ type: 'request', event, request });
          this.core.requests.on('request', onRequest);
          cleanups.set('requests', () => this.core.requests.off('request', onRequest));
          const ongoing = this.core.requests.list({});
          const recent = this.core.requests.list({ all: true, limit: 200 }).filter((r) => isRequestFinished(r.status));
          return send({ type: 'requests-snapshot', requests: [...ongoing, ...recent] });
        }
        case 'subscribe-clusters': {
          if (cleanups.has('clusters')) return;
          const onCluster = (event: 'updated' | 'removed', cluster: Cluster) => send({ type: 'cluster', event, cluster });
          const onJob = (event: 'updated', job: Job) => send({ type: 'job', event, job });
          this.core.clusters.on('cluster', onCluster);
          this.core.clusters.on('job', onJob);
          cleanups.set('clusters', () => {
            this.core.clusters.off('cluster', onCluster);
            this.core.clusters.off('job', onJob);
          });
          return send({ type: 'clusters-snapshot', clusters: this.core.clusters.list() });
        }
        case 'subscribe-log': {
          if (logStreams.has(msg.sub)) return send({ type: 'error', sub: msg.sub, code: 'duplicate_sub', message: `subscription ${msg.sub} already exists` });
          if (logStreams.size >= MAX_LOG_SUBSCRIPTIONS) return send({ type: 'error', sub: msg.sub, code: 'too_many_subscriptions', message: `at most ${MAX_LOG_SUBSCRIPTIONS} log streams per connection` });
          let id: string;
          try {
            id = this.core.requests.resolveId(msg.requestId);
          } catch (err) {
            return send({ type: 'error', sub: msg.sub, code: asSkyDeckError(err)?.code ?? 'bad_request', message: (err as Error).message });
          }
          const controller = new AbortController();
          logStreams.set(msg.sub, controller);
          void this.streamLog(ws, msg.sub, id, msg.follow !== false, { tail: msg.tail, offset: msg.offset }, controller.signal, send).finally(() => logStreams.delete(msg.sub));
          return;
        }
        case 'unsubscribe':
          logStreams.get(msg.sub)?.abort();
          logStreams.delete(msg.sub);
          return;
      }
    });

    ws.on('close', () => {
      for (const cleanup of cleanups.values()) cleanup();
      for (const controller of logStreams.values()) controller.abort();
    });
    ws.on('error', () => ws.terminate());
  }

  /** Streams a request's log to one socket until it ends or the subscription is cancelled. */
  private async streamLog(
    ws: WebSocket,
    sub: string,
    id: string,
    follow: boolean,
    start: { tail?: number; offset?: number },
    signal: AbortSignal,
    send: (m: ServerMessage) => void,
  ): Promise<void> {
    const path = this.core.requests.logPath(id);
    const from = start.offset ?? (start.tail !== undefined ? await tailOffset(path, start.tail) : 0);
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      // Listening before following: a finished log already read to its end ends (and unlistens) at once.
      signal.addEventListener('abort', cancel, { once: true });
      function cancel() {
        follower.close();
        resolve();
      }
      const follower = this.core.followRequestLog(
        id,
        from,
        {
          onChunk: (chunk) => {
            const taken = this.sendShared(ws, logMessage(chunk, sub, id));
            if (ws.bufferedAmount <= SOCKET_BUFFER_BYTES && this.buffered <= SERVER_BUFFER_BYTES) return true;
            // Over a bound: no more for this socket until this chunk has left (a paused client holds
            // one chunk more, not the log); it then reads on from its own offset.
            void taken.then(() => follower.resume());
            return false;
          },
          onEnd: () => {
            signal.removeEventListener('abort', cancel);
            send({ type: 'log-end', sub, requestId: id, status: this.core.requests.summary(id)?.status ?? 'SUCCEEDED' });
            resolve();
          },
        },
        { follow },
      );
    });
  }

  close(): void {
    this.heartbeat.stop();
    this.terminals.close();
    this.forwards.close();
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}
