// Follows one Slurm job: copies each node's output file (and the batch script's) into the job log as it
// grows, reports why a job waits in Slurm's queue, calls onRunning once setup is done on every node, and
// settles the outcome from Slurm's job state and the exit files the job leaves in its directory.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { JobOutcome } from '../backend';
import type { LogWriter } from '../../logs/log-writer';
import { NodeOutput, nodePrefix, type StreamOffsets } from '../node-output';
import { ENDED_STATES } from './slurm-cli';
import type { SlurmJobInfo, SlurmTransport } from './slurm-transport';

const TICK_MS = 250;
/** Slurm is asked about the job every this many ticks; files are read every tick. */
const STATE_EVERY = 4;
const COMPLETING_GRACE_MS = 5000;

export interface SlurmFollowOptions {
  slurmJobId: string;
  jobDir: string;
  numNodes: number;
  partition: string;
  log: LogWriter;
  offsets: StreamOffsets;
  slurm: SlurmTransport;
  onRunning(): void;
  onWaiting?(reason: string | undefined): void;
  /** The allocation's nodes in rank order (name and address), once the batch script has listed them. */
  onAllocation?(nodes: { name: string; ip: string }[]): void;
}

export class SlurmJobFollower {
  private readonly outputs: NodeOutput[];
  private readonly files: string[];
  private running = false;
  private allocated = false;
  private lastReason?: string;
  /** When Slurm first reported the job in a final state. */
  private endedAt?: number;
  /** Why Slurm could not be asked last time, while it cannot. */
  private unreachable?: string;
  private tick = 0;

  constructor(private readonly o: SlurmFollowOptions) {
    this.files = [...Array.from({ length: o.numNodes }, (_, r) => join(o.jobDir, `node-${r}.log`)), join(o.jobDir, 'batch.log')];
    this.outputs = this.files.map((_, i) => new NodeOutput(o.log, i < o.numNodes ? nodePrefix(i, o.numNodes) : ''));
  }

  async follow(): Promise<JobOutcome> {
    this.o.offsets.start();
    for (;;) {
      this.copyOutput();
      if (this.tick++ % STATE_EVERY === 0) {
        const ended = await this.observe();
        if (ended) {
          while (this.copyOutput()) await this.o.log.append('');
          for (const out of this.outputs) out.flush();
          this.o.offsets.finish();
          return ended;
        }
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  }

  /** Copies what the files gained, until the log's buffer is full; returns whether it copied anything. */
  private copyOutput(): boolean {
    let room = true;
    let copied = false;
    this.files.forEach((file, i) => {
      if (!room) return;
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        return;
      }
      const from = this.o.offsets.of(i);
      if (size <= from) return;
      const buf = Buffer.alloc(Math.min(size - from, 4 * 2 ** 20));
      const fd = openSync(file, 'r');
      try {
        const n = readSync(fd, buf, 0, buf.length, from);
        this.o.offsets.advance(i, n);
        copied ||= n > 0;
        room = this.outputs[i]!.write(buf.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    });
    return copied;
  }

  /** Asks Slurm where the job is; returns the outcome once it has ended and left the queue. */
  private async observe(): Promise<JobOutcome | undefined> {
    let job: SlurmJobInfo | undefined;
    try {
      // Undefined: Slurm forgot the finished job (MinJobAge); the exit files still tell how it ended.
      job = await this.o.slurm.jobInfo(this.o.slurmJobId);
      this.unreachable = undefined;
    } catch (err) {
      // Slurm cannot be asked (the controller restarting): waited out, the job goes on without us.
      const message = (err as Error).message;
      if (this.unreachable === undefined) this.o.log.line(`[skydeck] cannot ask Slurm about job ${this.o.slurmJobId} (will keep trying): ${message}`);
      this.unreachable = message;
      return undefined;
    }
    const state = job?.state;
    if (state === 'PENDING') {
      const reason = job!.reason;
      // `None` is the moment between submission and the scheduler's first look: nothing to tell.
      if (reason !== 'None' && reason !== this.lastReason) {
        this.lastReason = reason;
        this.o.log.line(`[skydeck] waiting in the Slurm queue (partition ${this.o.partition}, job ${this.o.slurmJobId}): ${reason}`);
        this.o.onWaiting?.(`waiting in the Slurm queue (partition ${this.o.partition}): ${reason}`);
      }
      return undefined;
    }
    if (this.lastReason !== undefined) {
      this.lastReason = undefined;
      this.o.onWaiting?.(undefined);
    }
    if (!this.allocated && state !== undefined && !ENDED_STATES.has(state)) this.reportAllocation();
    if (!this.running && existsSync(join(this.o.jobDir, 'running'))) {
      this.running = true;
      this.o.onRunning();
    }
    if (state !== undefined && !ENDED_STATES.has(state)) return undefined;
    // An ended job may still be completing (its processes being killed, slurmd reporting back): give
    // that a few seconds so the last output lands, but do not wait on a slurmd that reports late.
    this.endedAt ??= Date.now();
    if (state !== undefined && Date.now() - this.endedAt < COMPLETING_GRACE_MS && (await this.stillInQueue())) return undefined;
    return this.outcome(job);
  }

  /** Tells where the job runs once the batch script has written node_names and node_ips. */
  private reportAllocation(): void {
    const lines = (name: string) => {
      try {
        return readFileSync(join(this.o.jobDir, name), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const ips = lines('node_ips');
    const names = lines('node_names');
    if (ips.length < this.o.numNodes || names.length < this.o.numNodes) return;
    this.allocated = true;
    this.o.onAllocation?.(names.slice(0, this.o.numNodes).map((name, rank) => ({ name, ip: ips[rank]! })));
  }

  private async stillInQueue(): Promise<boolean> {
    try {
      return (await this.o.slurm.queued({ id: this.o.slurmJobId })).length > 0;
    } catch {
      return false;
    }
  }

  private outcome(job: SlurmJobInfo | undefined): JobOutcome {
    const state = job?.state;
    const read = (name: string): number | undefined => {
      try {
        return Number.parseInt(readFileSync(join(this.o.jobDir, name), 'utf8'), 10);
      } catch {
        return undefined;
      }
    };
    if (state === 'CANCELLED' || existsSync(join(this.o.jobDir, 'cancelled'))) return { status: 'CANCELLED' };
    if (state === 'COMPLETED' || (state === undefined && read('exit_code') === 0)) return { status: 'SUCCEEDED', exitCode: 0 };
    if (state === 'NODE_FAIL') return { status: 'FAILED', reason: `${this.failedNodes(job!.nodeList)} failed (NODE_FAIL); the job was stopped on every node` };
    for (const phase of ['setup', 'run'] as const) {
      const failed = this.failedNode(phase);
      if (failed) return { status: 'FAILED', exitCode: failed.exitCode, phase, reason: `${phase} failed on ${failed.node} with exit code ${failed.exitCode}` };
      const code = read(phase === 'setup' ? 'setup_exit' : 'exit_code');
      if (code !== undefined && code !== 0) return { status: 'FAILED', exitCode: code, phase, reason: `${phase} failed with exit code ${code}` };
    }
    if (state === undefined) return { status: 'FAILED', reason: `Slurm no longer knows job ${this.o.slurmJobId} and it left no exit status` };
    return { status: 'FAILED', reason: `Slurm ended job ${this.o.slurmJobId} as ${state}${job!.reason !== 'None' ? ` (${job!.reason})` : ''}` };
  }

  /** The node names in rank order, as each node reported it (node-<rank>.host). */
  private hostOf(rank: number): string | undefined {
    try {
      return readFileSync(join(this.o.jobDir, `node-${rank}.host`), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  private label(rank: number): string {
    const host = this.hostOf(rank);
    return `node-${rank}${host ? ` (${host})` : ''}`;
  }

  /**
   * The node whose phase failed on its own. srun's --kill-on-bad-exit then kills the others, which end
   * by a signal (exit 128+n), so an exit below 128 names the culprit.
   */
  private failedNode(phase: 'setup' | 'run'): { node: string; exitCode: number } | undefined {
    const codes: { rank: number; code: number }[] = [];
    for (let rank = 0; rank < this.o.numNodes; rank++) {
      try {
        const code = Number.parseInt(readFileSync(join(this.o.jobDir, `${phase}_exit-${rank}`), 'utf8'), 10);
        if (code !== 0) codes.push({ rank, code });
      } catch {
        // This node did not get to write its exit status (killed with the job).
      }
    }
    const culprit = codes.find((c) => c.code < 128) ?? codes[0];
    return culprit && { node: this.label(culprit.rank), exitCode: culprit.code };
  }

  /** Names the nodes srun reported lost ("Node failure on n2" in the batch log), by rank where known. */
  private failedNodes(nodeList: string): string {
    let batchLog = '';
    try {
      batchLog = readFileSync(join(this.o.jobDir, 'batch.log'), 'utf8');
    } catch {
      // No batch log: the allocation is all we can name.
    }
    const names = [...new Set([...batchLog.matchAll(/Node failure on (\S+)/g)].map((m) => m[1]!))];
    if (names.length === 0) return `a Slurm node of ${nodeList}`;
    const ranks = Array.from({ length: this.o.numNodes }, (_, r) => r);
    return names
      .map((name) => {
        const rank = ranks.find((r) => this.hostOf(r) === name);
        return rank === undefined ? `Slurm node ${name}` : `node-${rank} (${name})`;
      })
      .join(', ');
  }
}
