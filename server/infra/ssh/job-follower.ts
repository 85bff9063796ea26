// Follows one job across the nodes of an SSH cluster: streams each node's output into the job log,
// lets the run start once every node's setup succeeded, stops the other nodes when one fails or drops,
// and settles the job's outcome once every node has ended. Works the same for a job it just started and
// for one a previous server process started (the state lives in files on the nodes).
import type { Client } from 'ssh2';
import type { JobOutcome } from '../backend';
import type { LogWriter } from '../../logs/log-writer';
import { shellQuote } from '../shell';
import type { SshConnections, SshTarget } from './connection';
import { NodeOutput, nodePrefix, type StreamOffsets } from '../node-output';
import { followCommand, killCommand, parseState, type NodeJobState } from './remote-job';

export interface NodeJobRef {
  rank: number;
  target: SshTarget;
  /** Absolute path of the job directory on the node. */
  jobDir: string;
}

interface NodeProgress {
  ref: NodeJobRef;
  state?: NodeJobState;
  ended: boolean;
  /** Why the node was lost (connection dropped or refused) while its job was still going. */
  lost?: string;
}

interface Failure {
  reason: string;
  exitCode?: number;
  phase?: 'setup' | 'run';
}

export function nodeName(ref: Pick<NodeJobRef, 'rank' | 'target'>): string {
  const t = ref.target;
  return `node-${ref.rank} (${t.name === t.ip ? t.ip : `${t.name}, ${t.ip}`})`;
}

export interface FollowOptions {
  nodes: NodeJobRef[];
  log: LogWriter;
  connections: SshConnections;
  offsets: StreamOffsets;
  onRunning(): void;
}

const CONNECT_ATTEMPTS = 4;

export class SshJobFollower {
  private readonly progress: NodeProgress[];
  private readonly clients: Client[] = [];
  private goSent = false;
  private running = false;
  private stopping = false;
  /** The first thing that went wrong, in time: later nodes fail because we stopped them. */
  private failure?: Failure;
  private settle!: (outcome: JobOutcome) => void;

  constructor(private readonly opts: FollowOptions) {
    this.progress = opts.nodes.map((ref) => ({ ref, ended: false }));
  }

  follow(): Promise<JobOutcome> {
    const outcome = new Promise<JobOutcome>((resolve) => (this.settle = resolve));
    this.opts.offsets.start();
    for (const p of this.progress) void this.followNode(p);
    return outcome;
  }

  private async followNode(p: NodeProgress): Promise<void> {
    const output = new NodeOutput(this.opts.log, nodePrefix(p.ref.rank, this.progress.length));
    let client: Client;
    try {
      client = await this.connect(p);
    } catch (err) {
      this.nodeEnded(p, output, `${nodeName(p.ref)} dropped: ${(err as Error).message}`);
      return;
    }
    this.clients.push(client);
    let connectionError: string | undefined;
    let jobMissing = false;
    const ended = () => this.nodeEnded(p, output, jobMissing ? `the job's directory ${p.ref.jobDir} is gone from ${nodeName(p.ref)}` : `${nodeName(p.ref)} dropped: ${connectionError ?? 'the connection closed'}`);
    client.on('error', (err: Error) => (connectionError ??= err.message));
    client.on('close', ended);
    client.exec(followCommand(p.ref.jobDir, this.opts.offsets.of(p.ref.rank)), (err, channel) => {
      if (err) {
        connectionError = err.message;
        client.end();
        return;
      }
      channel.on('data', (d: Buffer) => {
        this.opts.offsets.advance(p.ref.rank, d.length);
        // A node that prints faster than the log file takes it waits (SSH flow control), not memory.
        if (!output.write(d)) {
          channel.pause();
          void this.opts.log.append('').then(() => channel.resume());
        }
      });
      let pending = '';
      channel.stderr.on('data', (d: Buffer) => {
        const lines = (pending + d.toString()).split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const state = parseState(line);
          if (state) {
            p.state = state;
            this.react();
          } else if (line.trim() !== '') {
            this.opts.log.line(`${nodePrefix(p.ref.rank, this.progress.length)}[skydeck] ${line}`);
          }
        }
      });
      channel.on('exit', (code: number | null) => {
        jobMissing = code === 3;
      });
      channel.on('close', () => {
        client.end();
        ended();
      });
      channel.end();
    });
  }

  /**
   * A follow connection, tried a few times: sshd drops some connections when many start at once (its
   * MaxStartups), as when a restarted server reattaches to every node together. A host that is really
   * gone fails every attempt.
   */
  private async connect(p: NodeProgress): Promise<Client> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.opts.connections.connectDedicated(p.ref.target);
      } catch (err) {
        if (attempt >= CONNECT_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
      }
    }
  }

  /** `why` is the failure to report if the node's job had not ended by itself. */
  private nodeEnded(p: NodeProgress, output: NodeOutput, why: string): void {
    if (p.ended) return;
    p.ended = true;
    output.flush();
    if (!p.state || p.state.alive) {
      p.lost = why;
      this.opts.connections.forget(p.ref.target);
      this.fail({ reason: why });
    }
    this.react();
    if (this.progress.every((n) => n.ended)) this.finish();
  }

  /** Moves the job along from what the nodes report. */
  private react(): void {
    const states = this.progress.map((p) => p.state);
    for (const p of this.progress) {
      const s = p.state;
      if (!s) continue;
      if (s.setupExit !== undefined && s.setupExit !== 0) {
        this.fail({ reason: `setup failed on ${nodeName(p.ref)} with exit code ${s.setupExit}`, exitCode: s.setupExit, phase: 'setup' });
      } else if (s.exitCode !== undefined && s.exitCode !== 0) {
        this.fail({ reason: `run failed on ${nodeName(p.ref)} with exit code ${s.exitCode}`, exitCode: s.exitCode, phase: 'run' });
      } else if (!s.alive && s.exitCode === undefined && !s.abort && !s.cancelled) {
        this.fail({ reason: `the job on ${nodeName(p.ref)} was killed before it finished` });
      }
    }
    if (this.stopping) return;
    if (!this.goSent && states.every((s) => s?.setupExit === 0 && !s.abort)) {
      this.goSent = true;
      if (states.every((s) => s!.go)) this.markRunning();
      else void this.sendGo();
    } else if (!this.running && states.every((s) => s?.go)) {
      this.markRunning();
    }
  }

  private async sendGo(): Promise<void> {
    try {
      await Promise.all(this.progress.map((p) => this.opts.connections.run(p.ref.target, `touch ${shellQuote(`${p.ref.jobDir}/go`)}`)));
      this.markRunning();
    } catch (err) {
      this.fail({ reason: `could not start the run on every node: ${(err as Error).message}` });
    }
  }

  private markRunning(): void {
    if (this.running) return;
    this.running = true;
    this.opts.onRunning();
  }

  /** Records the first failure and stops every node still going. */
  private fail(failure: Failure): void {
    if (this.failure || this.progress.some((p) => p.state?.cancelled)) return;
    this.failure = failure;
    this.stopping = true;
    this.opts.log.line(`[skydeck] ${failure.reason}; stopping the job on the other nodes`);
    for (const p of this.progress) {
      if (p.ended || p.lost || (p.state && !p.state.alive)) continue;
      this.opts.connections.run(p.ref.target, killCommand(p.ref.jobDir, 'abort')).catch((err: Error) => {
        this.opts.log.line(`[skydeck] could not stop the job on ${nodeName(p.ref)}: ${err.message}`);
      });
    }
  }

  private finish(): void {
    for (const c of this.clients) c.end();
    this.opts.offsets.finish();
    this.settle(this.outcome());
  }

  private outcome(): JobOutcome {
    if (this.progress.some((p) => p.state?.cancelled)) return { status: 'CANCELLED' };
    if (this.failure) return { status: 'FAILED', exitCode: this.failure.exitCode, reason: this.failure.reason, phase: this.failure.phase };
    return { status: 'SUCCEEDED', exitCode: 0 };
  }
}
