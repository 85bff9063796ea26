// A cluster's declared port on this machine: a listener on 127.0.0.1 whose every accepted connection is
// piped through the API server (`/api/forward`, one WebSocket per connection) to the port on the cluster's
// head node. Used by `skydeck port-forward` and by the extension's Open in Browser against a remote
// server, whose head nodes are on a network this machine may not reach.
import net from 'node:net';
import WebSocket from 'ws';
import { FORWARD_CLOSE, FORWARD_PATH, type ForwardClientMessage, type ForwardQuery, type ForwardServerMessage } from '../protocol/forward';
import { frameBytes, pipeToWebSocket } from '../shared/socket-pipe';
import type { ApiClient } from './api-client';
import { ClientError } from './errors';
import { Emitter, type Event } from './event';
import type { Disposable } from './lifecycle';

export interface PortForwardOptions {
  cluster: string;
  /** One of the cluster's declared ports. */
  port: number;
  /** The local port to listen on; an ephemeral one when absent or 0. */
  localPort?: number;
}

export interface ForwardProblem {
  /** An HTTP status of a refused upgrade, `connection_failed`, or the close code's name. */
  code: string;
  message: string;
}

/** A connection waits for the server this long before the user's client sees it reset. */
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** A side is no longer read while this much waits to go to the other. */
const HIGH_WATER = 1024 * 1024;
/**
 * Refusals that every later connection would get too (not the owner, no such cluster or port, the
 * cluster not UP, no credentials): the forward ends with the first, rather than refusing each in turn.
 */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 409]);

export class PortForward implements Disposable {
  private readonly connections = new Set<{ local: net.Socket; socket: WebSocket }>();
  private readonly problems = new Emitter<ForwardProblem>();
  private readonly ends = new Emitter<ForwardProblem>();
  private ended = false;
  /** The port listened on (kept after the listener closes, for messages). */
  readonly localPort: number;
  /** A connection failed without ending the forward (nothing listened on the port yet, the node was unreachable). */
  readonly onProblem: Event<ForwardProblem> = this.problems.event;
  /** Fires once when the forward is over because the server said so (the cluster went down, a refusal every connection gets). */
  readonly onEnd: Event<ForwardProblem> = this.ends.event;

  private constructor(
    private readonly client: ApiClient,
    readonly options: PortForwardOptions,
    private readonly listener: net.Server,
  ) {
    this.localPort = (listener.address() as net.AddressInfo).port;
    listener.on('connection', (local) => this.pipe(local));
  }

  /** Listens on 127.0.0.1 (the port given, or an ephemeral one); connections go through once accepted. */
  static async open(client: ApiClient, options: PortForwardOptions): Promise<PortForward> {
    await checkAllowed(client, options);
    // allowHalfOpen: a client that ends its request (FIN) may still read the answer; the far side ends on its own.
    const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ClientError('port_unavailable', err.code === 'EADDRINUSE' ? `local port ${options.localPort} is in use on 127.0.0.1; pick another with --local-port, or 0 for any` : `cannot listen on 127.0.0.1:${options.localPort ?? 0}: ${err.message}`)),
      );
      listener.listen(options.localPort ?? 0, '127.0.0.1', () => resolve());
    });
    return new PortForward(client, options, listener);
  }


  /** `http://127.0.0.1:LOCALPORT`: where the endpoint answers on this machine. */
  get url(): string {
    return `http://127.0.0.1:${this.localPort}`;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Connections open now. */
  get count(): number {
    return this.connections.size;
  }

  /** Stops listening and cuts every connection. */
  dispose(): void {
    this.ended = true;
    this.listener.close();
    for (const { local, socket } of [...this.connections]) {
      socket.terminate();
      local.destroy();
    }
    this.problems.dispose();
    this.ends.dispose();
  }

  private end(problem: ForwardProblem): void {
    if (this.ended) return;
    this.ended = true;
    this.ends.fire(problem);
    this.dispose();
  }

  /** One accepted connection, through its own WebSocket; each side paused while the other is behind. */
  private pipe(local: net.Socket): void {
    if (this.ended) return void local.destroy();
    const socket = openSocket(this.client, this.options);
    const connection = { local, socket };
    this.connections.add(connection);
    /** A refused upgrade has been reported; the socket's own error and close say nothing more. */
    let refused = false;
    local.setNoDelay(true);

    socket.on('open', () => local.resume());
    pipeToWebSocket(local, socket, HIGH_WATER);
    local.on('end', () => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'eof' } satisfies ForwardClientMessage)));
    local.on('drain', () => socket.resume());
    local.on('error', () => socket.terminate());
    local.on('close', () => {
      this.connections.delete(connection);
      if (socket.readyState === WebSocket.OPEN) {
        // Read again (it may be paused for a slow local reader), or the server's answering close frame waits unread.
        socket.resume();
        socket.close(FORWARD_CLOSE.done);
      }
      else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    });

    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        if (!local.destroyed && !local.write(frameBytes(data))) socket.pause();
        return;
      }
      let message: ForwardServerMessage;
      try {
        message = JSON.parse(String(data)) as ForwardServerMessage;
      } catch {
        return;
      }
      if (message.type === 'eof') local.end();
    });
    // A refused upgrade answers with a status and a one-line reason.
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        refused = true;
        socket.terminate();
        const problem = { code: String(res.statusCode), message: body.trim() || `the server refused the forward (HTTP ${res.statusCode})` };
        local.destroy();
        if (FINAL_STATUSES.has(res.statusCode ?? 0)) this.end(problem);
        else this.report(problem);
      });
      res.on('error', () => local.destroy());
    });
    socket.on('error', (err) => {
      local.destroy();
      if (refused) return;
      this.report({ code: 'connection_failed', message: `cannot reach ${this.client.endpoint.url}: ${err.message}` });
    });
    socket.on('close', (code, reason) => {
      this.connections.delete(connection);
      if (refused) return;
      const why = reason.toString('utf8');
      if (code === FORWARD_CLOSE.done || code === 1005) {
        // Whatever was written goes out first; then the connection is over.
        local.end(() => local.destroy());
        return;
      }
      local.destroy();
      if (code === FORWARD_CLOSE.clusterEnded) this.end({ code: 'cluster_ended', message: why });
      else if (code === FORWARD_CLOSE.shutdown) this.end({ code: 'server_shutdown', message: why || 'the API server is shutting down' });
      else if (code === FORWARD_CLOSE.connectFailed || code === FORWARD_CLOSE.endpointError) this.report({ code: code === FORWARD_CLOSE.connectFailed ? 'connect_failed' : 'endpoint_error', message: why });
      else if (code !== 1006) this.report({ code: String(code), message: why || `the forwarded connection closed (code ${code})` });
    });
  }

  private report(problem: ForwardProblem): void {
    if (!this.ended) this.problems.fire(problem);
  }
}

function openSocket(client: ApiClient, options: PortForwardOptions, check = false): WebSocket {
  const { url: base, localSocket } = client.endpoint;
  const query = new URLSearchParams({ cluster: options.cluster, port: String(options.port) } satisfies Partial<Record<keyof ForwardQuery, string>>);
  if (check) query.set('check', '1' satisfies ForwardQuery['check']);
  // The owner's local server is reached over its Unix socket, with the Host its gate expects (as client/live.ts).
  const url = localSocket ? `ws+unix://${localSocket}:${FORWARD_PATH}?${query}` : `${base.replace(/^http/, 'ws')}${FORWARD_PATH}?${query}`;
  const headers = localSocket ? { ...client.headers, host: new URL(base).host } : { ...client.headers };
  return new WebSocket(url, { headers, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, perMessageDeflate: false });
}

/** Asks the server whether it would forward (`check=1`): resolves if so, throws its refusal as a ClientError if not. */
function checkAllowed(client: ApiClient, options: PortForwardOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(client, options, true);
    let settled = false;
    const settle = (err?: ClientError) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    socket.on('close', (code, reason) => settle(code === FORWARD_CLOSE.done ? undefined : new ClientError('forward_refused', reason.toString('utf8') || `the server closed the check (code ${code})`)));
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        settle(new ClientError(`http_${res.statusCode}`, body.trim() || `the server refused the forward (HTTP ${res.statusCode})`));
        socket.terminate();
      });
    });
    socket.on('error', (err) => settle(new ClientError('connection_failed', `cannot reach ${client.endpoint.url}: ${err.message}`)));
  });
}
