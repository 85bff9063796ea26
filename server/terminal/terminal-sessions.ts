// GET /api/terminal: an interactive shell on a cluster node over one authenticated WebSocket per session.
// Only the cluster's owner and admins may open one. Output is paused while the client is behind and the
// client is no longer read while the shell's input is full, so neither side buffers without bound. A
// closed socket hangs up the shell; a cluster that is torn down or stops ends its shells.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Cluster } from '../../protocol/model';
import { terminalClientMessage, terminalQuery, type TerminalServerMessage } from '../../protocol/terminal';
import { requireOwner } from '../auth/policy';
import type { Principal } from '../auth/identity';
import type { ClusterService } from '../clusters/cluster-service';
import { upgradeQuery } from '../http/validate';
import { Heartbeat } from '../http/ws-heartbeat';
import { fail } from '../errors';
import { skypilotEnv, type ClusterRecord } from '../infra/backend';
import type { NodeShell, ShellExit } from './node-shell';

/** Terminal input is keystrokes and pastes; a frame larger than this is not a terminal's. */
const MAX_FRAME_BYTES = 1024 * 1024;
/** Output is paused while this much is waiting to go to the client, and resumed below half of it. */
const OUTPUT_HIGH_WATER = 1024 * 1024;

interface Session {
  cluster: string;
  end(reason: string): void;
}

export class TerminalSessions {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sessions = new Set<Session>();
  private readonly heartbeat: Heartbeat;

  constructor(private readonly clusters: ClusterService) {
    clusters.on('cluster', (event, cluster) => this.onCluster(event, cluster));
    this.heartbeat = new Heartbeat(this.wss);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Checks the query and the caller, then completes the upgrade; throws a SkyDeckError to refuse it. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, caller: Principal): void {
    const q = upgradeQuery(terminalQuery, req);
    const cluster = this.clusters.get(q.cluster);
    if (!cluster) throw fail.not_found(`cluster ${q.cluster} does not exist`);
    requireOwner(caller, cluster.owner, 'open a terminal on', `cluster ${cluster.name}`);
    if (cluster.status !== 'UP') throw fail.cluster_not_up(`cluster ${cluster.name} is ${cluster.status}; a terminal needs an UP cluster`);
    if (q.node >= cluster.nodes.length) throw fail.bad_request(`cluster ${cluster.name} has ${cluster.nodes.length} node(s) (ranks 0-${cluster.nodes.length - 1}); there is no node ${q.node}`);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.serve(ws, cluster, q.node, { command: q.command, tty: q.tty === '1' ? { cols: q.cols, rows: q.rows } : undefined });
    });
  }

  private async serve(ws: WebSocket, cluster: ClusterRecord, rank: number, start: { command?: string; tty?: { cols: number; rows: number } }): Promise<void> {
    const send = (m: TerminalServerMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
    let shell: NodeShell | undefined;
    let outputPaused = false;
    let exited = false;
    const session: Session = {
      cluster: cluster.name,
      end: (reason) => {
        send({ type: 'error', code: 'shell_ended', message: reason });
        if (shell) shell.hangUp();
        else ws.close(1000);
      },
    };
    this.sessions.add(session);
    this.heartbeat.watch(ws);
    const finish = (exit: ShellExit) => {
      if (exited) return;
      exited = true;
      this.sessions.delete(session);
      send({ type: 'exit', ...exit });
      ws.close(1000);
    };
    // Nothing is read from the client until the shell runs: its early input waits in the socket.
    ws.pause();
    ws.on('message', (data, isBinary) => {
      if (!shell) return;
      if (isBinary) return this.input(ws, shell, data);
      let parsed;
      try {
        parsed = terminalClientMessage.safeParse(JSON.parse(String(data)));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) return send({ type: 'error', code: 'bad_message', message: 'text frames are JSON control messages ({"type":"resize",...} or {"type":"eof"}); terminal bytes go in binary frames' });
      if (parsed.data.type === 'resize') shell.resize(parsed.data.cols, parsed.data.rows);
      else shell.endInput();
    });
    ws.on('close', () => {
      this.sessions.delete(session);
      if (!exited) shell?.hangUp();
    });
    ws.on('error', () => ws.terminate());

    const backend = this.clusters.backendFor(cluster.infra);
    try {
      const env = skypilotEnv({ cluster, nodes: cluster.nodes, rank, gpusPerNode: 0, taskId: `${cluster.name}-terminal`, phase: 'run' });
      shell = await backend.openShell(
        cluster,
        rank,
        { env: { SKYPILOT_NODE_RANK: env.SKYPILOT_NODE_RANK!, SKYPILOT_NODE_IPS: env.SKYPILOT_NODE_IPS!, SKYPILOT_NUM_NODES: env.SKYPILOT_NUM_NODES! }, ...start, runningJobs: this.clusters.activeJobs(cluster.name).map((j) => j.handle).filter((h) => h !== undefined) },
        {
          onData: (chunk) => {
            if (ws.readyState !== ws.OPEN) return;
            ws.send(chunk, { binary: true }, () => {
              if (outputPaused && ws.bufferedAmount < OUTPUT_HIGH_WATER / 2) {
                outputPaused = false;
                shell?.resume();
              }
            });
            if (!outputPaused && ws.bufferedAmount > OUTPUT_HIGH_WATER) {
              outputPaused = true;
              shell?.pause();
            }
          },
          onExit: finish,
          onDrain: () => ws.resume(),
        },
      );
    } catch (err) {
      this.sessions.delete(session);
      send({ type: 'error', code: 'shell_failed', message: (err as Error).message });
      ws.close(1011);
      return;
    }
    if (ws.readyState !== ws.OPEN) return shell.hangUp();
    send({ type: 'ready', cluster: cluster.name, node: rank, host: shell.host });
    ws.resume();
  }

  private input(ws: WebSocket, shell: NodeShell, data: RawData): void {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (!shell.write(chunk)) ws.pause();
  }

  private onCluster(event: 'updated' | 'removed', cluster: Cluster): void {
    if (event === 'updated' && cluster.status === 'UP') return;
    const why = event === 'removed' ? `cluster ${cluster.name} was torn down` : `cluster ${cluster.name} is ${cluster.status}`;
    for (const s of [...this.sessions]) if (s.cluster === cluster.name) s.end(why);
  }

  close(): void {
    this.heartbeat.stop();
    for (const s of [...this.sessions]) s.end('the API server is shutting down');
    this.wss.close();
  }
}
