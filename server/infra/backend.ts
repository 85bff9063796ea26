// The one interface every infra backend implements (local processes, SSH node pools, Slurm). A backend
// says what it can do (its capabilities) and callers ask before they act; its handles are typed by the
// backend and checked once, when the server loads state an earlier process wrote.
import type { z } from 'zod';
import type { InfraStatus } from '../../protocol/infra';
import type { Cluster, ClusterNode, JobStatus, Resources } from '../../protocol/model';
import type { LogWriter } from '../logs/log-writer';
import type { RegistryLogin } from './container/image';
import type { PlanSurvey } from './plan-survey';
import type { NodeShell, ShellEvents, ShellRequest } from '../terminal/node-shell';

/** The kinds of infra a server can run: the first segment of every infra name. */
export const INFRA_KINDS = ['local', 'ssh', 'slurm'] as const;
export type InfraKind = (typeof INFRA_KINDS)[number];

/** What a task asks for, parsed from its `resources` and `num_nodes`: one resource candidate. */
export interface ResourceAsk {
  /** As the task wrote it: `local`, `ssh`, `ssh/<pool>`, `slurm`, `slurm/<partition>`, or undefined for "anywhere". */
  infra?: string;
  numNodes: number;
  cpus?: { count: number; orMore: boolean };
  memoryGiB?: { count: number; orMore: boolean };
  accelerators?: { name: string; count: number };
  /** GB of free disk each node needs where the cluster lives (`disk_size`). */
  diskSizeGB?: number;
  useSpot?: boolean;
  instanceType?: string;
  region?: string;
  zone?: string;
  diskTier?: string;
  networkTier?: string;
  /** `docker:IMAGE`: setup and run execute in a container of that image. */
  imageId?: string;
  /** Ports the job listens on, each one reachable at the head node's address. */
  ports?: number[];
  /** Where the task's file_mounts land on the nodes (its keys), for infra that limits them. */
  mountTargets?: string[];
  /** Stop (or tear down, with `down`) after this many idle minutes. */
  autostop?: { idleMinutes: number; down: boolean };
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
  /** The hosts it would run on (as cluster nodes name them), where the infra knows before it runs. */
  hosts?: string[];
}

export interface Refusal {
  infra: string;
  /** The task key the infra cannot satisfy (`use_spot`, `disk_size`...); absent for a general refusal (no such pool). */
  key?: string;
  reason: string;
}

export type { InfraNode, InfraStatus } from '../../protocol/infra';

/** A cluster as the server stores it: the public record plus its backend's own state. */
export interface ClusterRecord<Handle = unknown> extends Cluster {
  /** Backend-owned, JSON-serialisable (sandbox dir, pool hosts, Slurm partition...); absent until provisioned. */
  handle?: Handle;
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
  /** The phase whose code exited non-zero (with exitCode); absent when the infra ended the job (no exit code). */
  phase?: 'setup' | 'run';
}

/** A job the backend has started. `handle` is persisted so a restarted server can find it again. */
export interface RunningJob<Handle = unknown> {
  handle: Handle;
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
  /**
   * The nodes the job's allocation has, by rank, once the infra has chosen them: for infra whose
   * clusters hold no nodes of their own (Slurm), they are the cluster's addresses while the job runs.
   */
  onAllocation?(nodes: ClusterNode[]): void;
}

/** What provisioning answers: the cluster's nodes, what they really have, and the backend's handle. */
export interface Provisioned<Handle> {
  nodes: ClusterNode[];
  resources: Resources;
  handle: Handle;
}

/** What provisioning needs from the task beyond the placement; never stored (it holds credentials). */
export interface ProvisionSecrets {
  /** The private registry login for the cluster's image (SKYPILOT_DOCKER_USERNAME / _PASSWORD / _SERVER). */
  registryLogin?: RegistryLogin;
}

/** A thing a backend cannot do, and why, worded to follow the key it refuses (`use_spot: <reason>`). */
export interface Unsupported {
  readonly unsupported: string;
}

export function unsupported(reason: string): Unsupported {
  return { unsupported: reason };
}

export function isSupported<T>(capability: T | Unsupported): capability is Exclude<T, Unsupported> {
  return !(typeof capability === 'object' && capability !== null && 'unsupported' in capability);
}

/** Stopping a cluster and starting it again (fixed hosts and per-job Slurm allocations cannot). */
export interface StopStart<Handle> {
  stop(cluster: ClusterRecord<Handle>, log: LogWriter): Promise<void>;
  start(cluster: ClusterRecord<Handle>, log: LogWriter): Promise<void>;
}

/**
 * What a backend can do. A capability is `true` (or its implementation) when the backend has it, else
 * the reason it has not. Keys the backend checks against its nodes (disk_size, image_id, ports) are
 * answered per node in `candidates`; these say what has no meaning on the backend at all.
 */
export interface BackendCapabilities<Handle> {
  stopStart: StopStart<Handle> | Unsupported;
  /** Spot/preemptible capacity (`use_spot: true`). */
  spot: true | Unsupported;
  /** Choosing a cloud instance type (`instance_type`). */
  instanceTypes: true | Unsupported;
  regions: true | Unsupported;
  zones: true | Unsupported;
  diskTiers: true | Unsupported;
  networkTiers: true | Unsupported;
  /** Declared ports reachable at the head node's address (`ports`). */
  ports: true | Unsupported;
  /** Setup and run inside a container (`image_id: docker:...`), on nodes with Docker or Podman. */
  containerImages: true | Unsupported;
}

export interface InfraBackend<ClusterHandle = unknown, JobHandle = unknown> {
  readonly kind: InfraKind;
  readonly capabilities: BackendCapabilities<ClusterHandle>;
  /** The shapes of its handles, checked once when a restarted server loads the records holding them. */
  readonly handles: { cluster: z.ZodType<ClusterHandle>; job: z.ZodType<JobHandle> };
  /**
   * Whether the server's configuration turns this backend on now, and if not why and how to. Read at
   * every use, so a configuration added while the server runs applies without a restart.
   */
  configured(): { enabled: true } | { enabled: false; reason: string; hint: string };
  /** Every infra this backend serves, whether it can be used now, and its nodes (only asked when configured). */
  check(): Promise<InfraStatus[]>;
  /**
   * Placements that satisfy the ask, and refusals (with reasons) for the infra that cannot. The candidates
   * of one plan share `survey`, so that what the backend reads of its nodes is read once per plan.
   */
  candidates(ask: ResourceAsk, survey?: PlanSurvey): Promise<{ placements: Placement[]; refusals: Refusal[] }>;
  /**
   * Creates (or reuses, when the record has a handle) the cluster's nodes, and its containers when
   * `cluster.resources.imageId` names an image. Progress goes to `log`.
   */
  provision(cluster: ClusterRecord<ClusterHandle>, placement: Placement, log: LogWriter, signal: AbortSignal, secrets?: ProvisionSecrets): Promise<Provisioned<ClusterHandle>>;
  /** Starts setup then run on every node, detached from the server process. */
  runJob(cluster: ClusterRecord<ClusterHandle>, spec: JobSpec, ctx: JobContext): Promise<RunningJob<JobHandle>>;
  /**
   * A job whose start a restart cut short (the store has the job but not its handle): its handle if
   * the job's process was started (running, or ended with its exit recorded), else undefined.
   */
  recoverJob?(cluster: ClusterRecord<ClusterHandle>, spec: JobSpec): Promise<JobHandle | undefined>;
  /** Picks up a job started by an earlier server process (after a restart). */
  resumeJob(cluster: ClusterRecord<ClusterHandle>, spec: JobSpec, handle: JobHandle, ctx: JobContext): Promise<RunningJob<JobHandle>>;
  /** Stops the job's whole process tree on every node. Resolves once it is gone. */
  cancelJob(cluster: ClusterRecord<ClusterHandle>, handle: JobHandle): Promise<void>;
  /** Removes every trace of the cluster on its nodes (also one that never got its handle). */
  teardown(cluster: ClusterRecord<ClusterHandle>, log: LogWriter): Promise<void>;
  /** A shell (or one command) on node `rank`, started where the cluster's jobs start (its workdir). */
  openShell(cluster: ClusterRecord<ClusterHandle>, rank: number, request: ShellRequest<JobHandle>, events: ShellEvents): Promise<NodeShell>;
  /** Lets go of what the backend holds open (connections); called once at server shutdown. */
  close(): Promise<void>;
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
