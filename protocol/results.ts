// Schemas of what operations return, and of the clusters and jobs inside those results. The types in
// model.ts and api.ts are derived from these, so a result is typed once: the server checks what it
// stores against them and clients parse what they read with them instead of trusting a cast.
import * as z from 'zod';
import { MANAGED_JOB_STATUSES, type JobsCancelResult, type JobsLaunchResult, type JobsLogsResult, type JobsQueueResult, type ManagedJob, type ManagedTask } from './jobs';
import { CLUSTER_STATUSES, JOB_STATUSES } from './model';

export const userSchema = z.lazy(() => z.object({
  /** 8 hex digits, from SKYDECK_HOME/user_hash or SKYDECK_USER_ID, or the authenticated account. */
  id: z.string(),
  name: z.string(),
}));

export const resourcesSchema = z.lazy(() => z.object({
  infra: z.string(),
  cpus: z.string().optional(),
  memory: z.string().optional(),
  accelerators: z.string().optional(),
  /** `docker:IMAGE`: setup and run execute in a container of that image, kept for the cluster's life. */
  imageId: z.string().optional(),
}));

export const clusterNodeSchema = z.lazy(() => z.object({
  rank: z.number().int(),
  /** Address other nodes and jobs use to reach it. */
  ip: z.string(),
  host: z.string().optional(),
}));

export const clusterSchema = z.lazy(() => z.object({
  name: z.string(),
  infra: z.string(),
  resources: resourcesSchema,
  numNodes: z.number().int(),
  status: z.enum(CLUSTER_STATUSES),
  owner: userSchema,
  launchedAt: z.number(),
  /** Minutes idle before an automatic stop; absent when off. */
  autostop: z.number().optional(),
  /** Autostop tears the cluster down instead of stopping it (`--down`, `autostop: {down: true}`). */
  autostopDown: z.boolean().optional(),
  /**
   * Whether its infra can stop the cluster and start it again (and so autostop it without down):
   * clients offer stop, start and autostop only when true. Absent on records older than the field.
   */
  canStop: z.boolean().optional(),
  /** Ports its jobs declared (`resources.ports`), reachable at the head node: see clusterEndpoints. */
  ports: z.array(z.number().int()).optional(),
  /** The task's `resources.labels`, as given. */
  labels: z.record(z.string(), z.string()).optional(),
  nodes: z.array(clusterNodeSchema),
  statusMessage: z.string().optional(),
}));

export const jobSchema = z.lazy(() => z.object({
  cluster: z.string(),
  jobId: z.number().int(),
  name: z.string().optional(),
  status: z.enum(JOB_STATUSES),
  exitCode: z.number().int().optional(),
  owner: userSchema,
  /** The request that started it. */
  requestId: z.string().optional(),
  submittedAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  failureReason: z.string().optional(),
  /** Why the job waits to start (a Slurm queue reason). */
  statusMessage: z.string().optional(),
}));

/** What `launch` and `exec` return (a failed one keeps it too, for the job's exit code). */
export const launchResult = z.lazy(() => z.object({
  clusterName: z.string(),
  jobId: z.number().int(),
  exitCode: z.number().int().optional(),
  jobStatus: z.enum(JOB_STATUSES),
}));

/** What `start`, `stop` and `down` return. */
export const clusterResult = z.lazy(() => z.object({ clusterName: z.string() }));

/** What `status` returns. */
export const statusResult = z.lazy(() => z.object({ clusters: z.array(clusterSchema) }));

/** What `queue` returns. */
export const queueResult = z.lazy(() => z.object({ jobs: z.array(jobSchema) }));

/** What `cancel_jobs` returns: the jobs it cancelled (others had already ended). */
export const cancelJobsResult = z.lazy(() => z.object({ cancelled: z.array(z.number().int()) }));

/** What `job_logs` returns: the job whose log it copied, if the cluster had one. */
export const jobLogsResult = z.lazy(() => z.object({
  clusterName: z.string(),
  jobId: z.number().int().optional(),
  jobStatus: z.enum(JOB_STATUSES).optional(),
  exitCode: z.number().int().optional(),
}));

/** What `autostop` returns: the autostop now set (nothing but the name once cancelled). */
export const autostopResult = z.lazy(() => z.object({
  clusterName: z.string(),
  idleMinutes: z.number().int().optional(),
  down: z.boolean().optional(),
}));

// ---- managed jobs (their records are typed in protocol/jobs.ts; these schemas must match them) ----

const managedTaskSchema: z.ZodType<ManagedTask> = z.object({
  index: z.number().int(),
  name: z.string().optional(),
  status: z.enum(MANAGED_JOB_STATUSES),
  resources: z.string(),
  recovery: z.object({ strategy: z.enum(['EAGER_NEXT_REGION', 'FAILOVER']), maxRestartsOnErrors: z.number().int(), recoverOnExitCodes: z.array(z.number().int()) }),
  cluster: z.string().optional(),
  infra: z.string().optional(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  recoveryCount: z.number().int(),
  restartsOnErrors: z.number().int(),
  exitCode: z.number().int().optional(),
  failureReason: z.string().optional(),
});

const managedJobSchema: z.ZodType<ManagedJob> = z.object({
  id: z.number().int(),
  name: z.string().optional(),
  owner: userSchema,
  status: z.enum(MANAGED_JOB_STATUSES),
  tasks: z.array(managedTaskSchema),
  currentTask: z.number().int(),
  submittedAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  jobDurationMs: z.number(),
  runningSince: z.number().optional(),
  statusMessage: z.string().optional(),
  failureReason: z.string().optional(),
  requestId: z.string(),
});

export const jobsLaunchResult: z.ZodType<JobsLaunchResult> = z.lazy(() => z.object({ jobId: z.number().int() }));
export const jobsQueueResult: z.ZodType<JobsQueueResult> = z.lazy(() => z.object({ jobs: z.array(managedJobSchema) }));
export const jobsCancelResult: z.ZodType<JobsCancelResult> = z.lazy(() => z.object({ cancelled: z.array(z.number().int()) }));
export const jobsLogsResult: z.ZodType<JobsLogsResult> = z.lazy(() => z.object({ jobId: z.number().int().optional(), status: z.enum(MANAGED_JOB_STATUSES).optional() }));
