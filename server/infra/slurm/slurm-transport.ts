// How the server talks to Slurm: its commands (sbatch, squeue, scontrol, scancel, sinfo) or slurmrestd.
// The backend and the job follower only see this interface; both transports answer in the same shapes.
import type { SlurmNode } from './slurm-cli';

/** One batch job, as sbatch's options say it. */
export interface SlurmJobRequest {
  /** The batch script's path on the shared dir (sbatch reads it there)... */
  scriptFile: string;
  /** ...and its text (slurmrestd takes the script in the request). */
  script: string;
  name: string;
  partition: string;
  nodes: number;
  /** The batch script's own output. */
  output: string;
  chdir: string;
  cpusPerTask?: number;
  memoryMb?: number;
  /** `gpu:<type>:<count>` */
  gres?: string;
  account?: string;
  /** The nodes the job must run on (sbatch --nodelist): SkyDeck pins a job that holds ports. */
  nodelist?: string[];
  /** Submitted held (sbatch --hold): it waits, priority 0, until released. */
  hold?: boolean;
  /** sbatch --comment: SkyDeck records the ports the job's cluster declared there, for other servers and launches to see. */
  comment?: string;
}

/** What the follower needs of a job, as `scontrol show job` says it. */
export interface SlurmJobInfo {
  /** PENDING, RUNNING, COMPLETED, NODE_FAIL... */
  state: string;
  /** Why it waits or ended (`Resources`, `None`). */
  reason: string;
  /** The allocation's nodes (`n[1-2]`), empty before it has one. */
  nodeList: string;
}

/** A job in Slurm's queue (pending, running or completing), as `squeue` lists it. */
export interface SlurmQueuedJob {
  id: string;
  name: string;
  /** PENDING, RUNNING, COMPLETING... */
  state: string;
  /** Why it waits (`Resources`, `JobHeldUser`), `None` once running. */
  reason: string;
  /** The allocation's nodes, none while it is pending. */
  nodes: string[];
  /** The nodes it must run on (sbatch --nodelist), none when Slurm may choose. */
  requiredNodes: string[];
  comment: string;
}

/** One job by id, or every job of a name and user (a cluster's jobs). */
export type SlurmJobFilter = { id: string } | { name: string; user: string };

export interface SlurmTransport {
  /** How Slurm is reached, for `skydeck check`: `the Slurm commands`, `slurmrestd at URL`. */
  readonly via: string;
  /** One entry per node and partition, as `sinfo -N` lists them. */
  nodes(): Promise<SlurmNode[]>;
  /** Submits the job; returns its Slurm job id. */
  submit(job: SlurmJobRequest): Promise<string>;
  /** Undefined once Slurm has forgotten the job; throws when Slurm cannot be asked. */
  jobInfo(id: string): Promise<SlurmJobInfo | undefined>;
  /** The ids of the matching jobs still in the queue (what squeue lists: pending, running, completing). */
  queued(filter: SlurmJobFilter): Promise<string[]>;
  cancel(filter: SlurmJobFilter): Promise<void>;
  /** Lets a job submitted held be scheduled (scontrol release). */
  release(id: string): Promise<void>;
  /** Every job in the queue, whoever submitted it: name, state, nodes (allocated or required) and comment. */
  queue(): Promise<SlurmQueuedJob[]>;
}
