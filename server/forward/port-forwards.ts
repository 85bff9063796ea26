// GET /api/forward: a TCP connection from the server to a port a cluster declared, at its head node,
// carried over one authenticated WebSocket (see protocol/forward.ts for why one per connection). Only
// the cluster's owner and admins may open one, only to a declared port of an UP cluster. Either side is
// no longer read while the other is behind, so neither buffers without bound; either side closing ends
// the other; a cluster torn down or stopped ends its forwards.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { closeReason, FORWARD_CLOSE, forwardClientMessage, forwardQuery, type ForwardServerMessage } from '../../protocol/forward';
import type { Cluster } from '../../protocol/model';
import { frameBytes, pipeToWebSocket } from '../../shared/socket-pipe';
import type { Principal } from '../auth/identity';
import { requireOwner } from '../auth/policy';
import type { ClusterService } from '../clusters/cluster-service';
import { upgradeQuery } from '../http/validate';
import { Heartbeat } from '../http/ws-heartbeat';
import { fail } from '../errors';

/** Frames carry what a TCP read gave (64 KiB at most from Node); a much larger one is not a forward's. */
const MAX_FRAME_BYTES = 1024 * 1024;
/** The endpoint is no longer read while this much waits to go to the client; read again below half. */
const HIGH_WATER = 1024 * 1024;
/** A head node that neither accepts nor refuses within this is reported unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** A forward the server ends (cluster gone, shutdown) is cut this long after its close frame if still open. */
const END_GRACE_MS = 1000;

interface Forward {
  cluster: string;
  end(code: number, reason: string): void;
}

export class PortForwards {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  private readonly forwards = new Set<Forward>();
  private readonly heartbeat: Heartbeat;

  constructor(private readonly clusters: ClusterService) {
    clusters.on('cluster', (event, cluster) => this.onCluster(event, cluster));
    this.heartbeat = new Heartbeat(this.wss);
  }

  get count(): number {
    return this.forwards.size;
  }

  /** Checks the query and the caller, then completes the upgrade; throws a SkyDeckError to refuse it. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, caller: Principal): void {
    const query = upgradeQuery(forwardQuery, req);
    const { port } = query;
    const cluster = this.clusters.get(query.cluster);
    if (!cluster) throw fail.not_found(`cluster ${query.cluster} does not exist`);
    requireOwner(caller, cluster.owner, 'forward a port of', `cluster ${cluster.name}`);
    if (cluster.status !== 'UP') throw fail.cluster_not_up(`cluster ${cluster.name} is ${cluster.status}; a port forward needs an UP cluster`);
    const declared = cluster.ports ?? [];
    if (!declared.includes(port)) {
      throw fail.bad_request(`port ${port} is not one cluster ${cluster.name} declared (${declared.length > 0 ? `resources.ports: ${declared.join(', ')}` : 'its task declared no resources.ports'}); only declared ports are forwarded`);
    }
    const host = cluster.nodes.find((n) => n.rank === 0)?.ip;
    if (!host) throw fail.cluster_not_up(`cluster ${cluster.name} has no head node address yet`);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (query.check) ws.close(FORWARD_CLOSE.done, 'allowed');
      else this.serve(ws, cluster.name, host, port);
    });
  }

  private serve(ws: WebSocket, cluster: string, host: string, port: number): void {
    const send = (m: ForwardServerMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
    const close = (code: number, reason: string) => {
      if (ws.readyState !== ws.OPEN) return;
      // A paused socket would not read the client's answering close frame, and the close would hang until ws's timeout.
      ws.resume();
      ws.close(code, closeReason(reason));
    };
    // Nothing is read from the client until the endpoint answers: its first bytes wait in the socket.
    ws.pause();
    this.heartbeat.watch(ws);
    const target = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    target.setTimeout(CONNECT_TIMEOUT_MS, () => target.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)));
    let connected = false;
    const forward: Forward = {
      cluster,
      end: (code, reason) => {
        close(code, reason);
        target.destroy();
        // A client paused for its slow reader reads the close frame only after the data before it: the
        // connection is cut if the close handshake has not finished by then.
        setTimeout(() => ws.terminate(), END_GRACE_MS).unref();
      },
    };
    this.forwards.add(forward);
    const where = `${host}:${port} (cluster ${cluster})`;

    target.on('connect', () => {
      connected = true;
      target.setTimeout(0);
      send({ type: 'connected', cluster, port, host });
      ws.resume();
    });
    pipeToWebSocket(target, ws, HIGH_WATER);
    target.on('drain', () => ws.resume());
    target.on('end', () => send({ type: 'eof' }));
    target.on('error', (err) => close(connected ? FORWARD_CLOSE.endpointError : FORWARD_CLOSE.connectFailed, `${connected ? 'connection to' : 'cannot connect to'} ${where}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    // Both halves ended (or the connection failed): what was sent goes first, then the close frame.
    target.on('close', () => {
      this.forwards.delete(forward);
      close(FORWARD_CLOSE.done, 'the connection ended');
    });

    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.toEndpoint(ws, target, data);
      let parsed;
      try {
        parsed = forwardClientMessage.safeParse(JSON.parse(String(data)));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) return forward.end(FORWARD_CLOSE.badMessage, 'text frames are control messages ({"type":"eof"}); the bytes go in binary frames');
      target.end();
    });
    ws.on('close', () => {
      this.forwards.delete(forward);
      target.destroy();
    });
    ws.on('error', () => ws.terminate());
  }

  private toEndpoint(ws: WebSocket, target: net.Socket, data: RawData): void {
    if (target.destroyed || target.writableEnded) return;
    if (!target.write(frameBytes(data))) ws.pause();
  }

  private onCluster(event: 'updated' | 'removed', cluster: Cluster): void {
    if (event === 'updated' && cluster.status === 'UP') return;
    const why = event === 'removed' ? `cluster ${cluster.name} was torn down` : `cluster ${cluster.name} is ${cluster.status}`;
    for (const f of [...this.forwards]) if (f.cluster === cluster.name) f.end(FORWARD_CLOSE.clusterEnded, why);
  }

  close(): void {
    this.heartbeat.stop();
    for (const f of [...this.forwards]) f.end(FORWARD_CLOSE.shutdown, 'the API server is shutting down');
    this.wss.close();
  }
}
