// The one interface every infra backend implements (local processes, SSH node pools, Slurm).
// The executor and the operations never ask which backend they hold.
import type { Cluster, ClusterNode, JobStatus, Resources } from '../../protocol/model';
import type { LogWriter } from '../logs/log-writer';
import type { NodeShell, ShellEvents, ShellRequest } from '../terminal/node-shell';

/** What a task asks for, parsed from its `resources` and `num_nodes`. */
export interface ResourceAsk {
  /** As the task wrote it: `local`, `ssh`, `ssh/<pool>`, `slurm`, `slurm/<partition>`, or undefined for "anywhere". */
  infra?: string;
  numNodes: number;
  cpus?: { count: number; orMore: boolean };
  memoryGiB?: { count: number; orMore: boolean };
  accelerators?: { name: string; count: number };
}

/** One way to place a task: a concrete infra and what each of its nodes offers. */
export interface Placement {
  infra: string;
  numNodes: number;
  /** Per node. */
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
  /** Lower is preferred by the optimizer (e.g. local before remote). */
  cost: number;
}

export interface Refusal {
  infra: string;
  reason: string;
}

export interface InfraStatus {
  infra: string;
  enabled: boolean;
  reason?: string;
}

/** A cluster as the server stores it: the public record plus backend-private state. */
export interface ClusterRecord extends Cluster {
  /** Backend-private, JSON-serialisable (sandbox dir, pool hosts, Slurm allocation...). */
  handle?: unknown;
}

/** Everything a backend needs to start one job on a cluster. */
export interface JobSpec {
  jobId: number;
  /** Nodes the job runs on: the first `numNodes` of the cluster (exec may use fewer than the cluster has). */
  numNodes: number;
  name?: string;
  setup?: string;
  run?: string;
  /** The task's envs and secrets, all filled. */
  envs: Record<string, string>;
  /** Absolute path on the server's machine, copied to every node before setup. */
  workdir?: string;
  /** Remote path -> absolute local path on the server's machine. */
  fileMounts?: Record<string, string>;
  /** GPUs per node the task asked for (SKYPILOT_NUM_GPUS_PER_NODE). */
  gpusPerNode: number;
  taskId: string;
}

export interface JobOutcome {
  status: Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;
  exitCode?: number;
  /** Why it failed when the exit code does not say (a node dropped, setup failed). */
  reason?: string;
}

/** A job the backend has started. `handle` is persisted so a restarted server can find it again. */
export interface RunningJob {
  handle: unknown;
  /** Settles when the job has ended, however it ended. */
  outcome: Promise<JobOutcome>;
}

export interface JobContext {
  /** The job's own log (append-only file on the server's machine); the backend writes all output here. */
  log: LogWriter;
  /** The same log's path, for backends whose processes write to it directly (local jobs outlive the server). */
  logPath: string;
  /** Called when the job moves from SETTING_UP to RUNNING. */
  onRunning(): void;
  /** Says why the job waits (a Slurm queue reason), or undefined once it no longer does. */
  onWaiting?(reason: string | undefined): void;
}

export interface InfraBackend {
  /** `local`, `ssh` or `slurm`: the first segment of the infra names it serves. */
  readonly kind: string;
  /** Whether its clusters can be stopped and started again (fixed hosts and Slurm allocations cannot). */
  readonly stoppable: boolean;
  /** Every infra this backend serves and whether it can be used now. */
  check(): Promise<InfraStatus[]>;
  /** Placements that satisfy the ask, and refusals (with reasons) for the infra that cannot. */
  candidates(ask: ResourceAsk): Promise<{ placements: Placement[]; refusals: Refusal[] }>;
  /** Creates (or reuses, when `existing` is given) the cluster's nodes. Progress goes to `log`. */
  provision(cluster: ClusterRecord, placement: Placement, log: LogWriter, signal: AbortSignal): Promise<{ nodes: ClusterNode[]; resources: Resources; handle: unknown }>;
  /** Starts setup then run on every node, detached from the server process. */
  runJob(cluster: ClusterRecord, spec: JobSpec, ctx: JobContext): Promise<RunningJob>;
  /**
   * A job whose start a restart cut short (the store has the job but not its handle): its handle if
   * the job's process was started (running, or ended with its exit recorded), else undefined.
   */
  recoverJob?(cluster: ClusterRecord, spec: JobSpec): Promise<unknown | undefined>;
  /** Picks up a job started by an earlier server process (after a restart). */
  resumeJob(cluster: ClusterRecord, spec: JobSpec, handle: unknown, ctx: JobContext): Promise<RunningJob>;
  /** Stops the job's whole process tree on every node. Resolves once it is gone. */
  cancelJob(cluster: ClusterRecord, handle: unknown): Promise<void>;
  stop(cluster: ClusterRecord, log: LogWriter): Promise<void>;
  start(cluster: ClusterRecord, log: LogWriter): Promise<void>;
  /** Removes every trace of the cluster on its nodes. */
  teardown(cluster: ClusterRecord, log: LogWriter): Promise<void>;
  /** A shell (or one command) on node `rank`, started where the cluster's jobs start (its workdir). */
  openShell(cluster: ClusterRecord, rank: number, request: ShellRequest, events: ShellEvents): Promise<NodeShell>;
}

/** Parses `4`, `4+`, `0.5` from a task's resources. */
export function parseQuantity(q: string | undefined): { count: number; orMore: boolean } | undefined {
  if (q === undefined) return undefined;
  return { count: Number.parseFloat(q), orMore: q.endsWith('+') };
}

export function parseAccelerators(a: string | undefined): { name: string; count: number } | undefined {
  if (a === undefined) return undefined;
  const [name, count] = a.split(':');
  return { name: name!, count: count === undefined ? 1 : Number.parseFloat(count) };
}

/** The SKYPILOT_* variables a node's setup or run sees, so existing task files work unchanged. */
export function skypilotEnv(opts: {
  cluster: Pick<Cluster, 'name' | 'infra'>;
  nodes: ClusterNode[];
  rank: number;
  gpusPerNode: number;
  taskId: string;
  phase: 'setup' | 'run';
}): Record<string, string> {
  const ips = opts.nodes.map((n) => n.ip).join('\n');
  const [cloud, region] = opts.cluster.infra.split('/');
  const common = {
    SKYPILOT_TASK_ID: opts.taskId,
    SKYPILOT_CLUSTER_INFO: JSON.stringify({ cluster_name: opts.cluster.name, cloud, region: region ?? null, zone: null }),
  };
  if (opts.phase === 'setup') {
    return {
      ...common,
      SKYPILOT_SETUP_NODE_RANK: String(opts.rank),
      SKYPILOT_SETUP_NODE_IPS: ips,
      SKYPILOT_SETUP_NUM_NODES: String(opts.nodes.length),
      SKYPILOT_SETUP_NUM_GPUS_PER_NODE: String(opts.gpusPerNode),
    };
  }
  return {
    ...common,
    SKYPILOT_NODE_RANK: String(opts.rank),
    SKYPILOT_NODE_IPS: ips,
    SKYPILOT_NUM_NODES: String(opts.nodes.length),
    SKYPILOT_NUM_GPUS_PER_NODE: String(opts.gpusPerNode),
  };
}
