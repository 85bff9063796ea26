// Managed jobs: tasks whose whole life the server owns (a cluster of their own, recovery when the infra
// fails under them, teardown at the end). The record every side shows, its statuses (SkyPilot's), and the
// bodies and results of the jobs.* operations. Operations are submitted like any other (POST
// /api/v1/jobs.launch ...); direct reads: GET /api/jobs -> ManagedJobListResponse.
import { z } from 'zod';
import type { User } from './model';
import { taskSchema } from './task';

/**
 * SkyPilot's managed-job statuses. PENDING waits for a launch slot; STARTING provisions the job's cluster
 * and runs setup; RECOVERING provisions a new one after the infra failed under the job (or, with
 * max_restarts_on_errors, after its code failed).
 */
export const MANAGED_JOB_STATUSES = [
  'PENDING',
  'STARTING',
  'RUNNING',
  'RECOVERING',
  'CANCELLING',
  'SUCCEEDED',
  'CANCELLED',
  'FAILED',
  'FAILED_SETUP',
  'FAILED_NO_RESOURCE',
  'FAILED_CONTROLLER',
] as const;
export type ManagedJobStatus = (typeof MANAGED_JOB_STATUSES)[number];

const FINISHED: ReadonlySet<ManagedJobStatus> = new Set(['SUCCEEDED', 'CANCELLED', 'FAILED', 'FAILED_SETUP', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER']);

export function isManagedJobFinished(status: ManagedJobStatus): boolean {
  return FINISHED.has(status);
}

export function isManagedJobFailure(status: ManagedJobStatus): boolean {
  return status.startsWith('FAILED');
}

/** How a job recovers, from the task's `resources.job_recovery` (SkyPilot's keys and meanings). */
export interface RecoveryPolicy {
  /** EAGER_NEXT_REGION (SkyPilot's default): leave the failed placement first; FAILOVER: try the same infra first. */
  strategy: 'EAGER_NEXT_REGION' | 'FAILOVER';
  /** Restarts allowed after the task's own code fails (non-zero exit); 0 = a failure is final. */
  maxRestartsOnErrors: number;
  /** Exit codes that always restart the task, whatever the count above. */
  recoverOnExitCodes: number[];
}

/** One task of a managed job (a pipeline has several, run one after the other). */
export interface ManagedTask {
  index: number;
  name?: string;
  status: ManagedJobStatus;
  /** What the task asks for, as the queue shows it (`1x local cpus=1`). */
  resources: string;
  recovery: RecoveryPolicy;
  /** The cluster it runs on now (or last ran on). */
  cluster?: string;
  infra?: string;
  startedAt?: number;
  endedAt?: number;
  /** Times a new cluster was provisioned for it after a failure. */
  recoveryCount: number;
  /** Restarts spent on failures of the task's own code (counted against maxRestartsOnErrors). */
  restartsOnErrors: number;
  exitCode?: number;
  failureReason?: string;
}

/** A managed job as every client sees it. */
export interface ManagedJob {
  id: number;
  name?: string;
  owner: User;
  status: ManagedJobStatus;
  tasks: ManagedTask[];
  /** Index into tasks of the one running now (or that ended the job). */
  currentTask: number;
  submittedAt: number;
  /** The first time a task of it was RUNNING. */
  startedAt?: number;
  endedAt?: number;
  /** Milliseconds its tasks spent RUNNING, over every attempt (SkyPilot's JOB DURATION). */
  jobDurationMs: number;
  /** Since when the current attempt is RUNNING (adds to jobDurationMs when it stops). */
  runningSince?: number;
  /** Why it waits or what it is doing now. */
  statusMessage?: string;
  failureReason?: string;
  /** The jobs.launch request that submitted it. */
  requestId: string;
}

/** Every recovery a job had across its tasks. */
export function recoveryCount(job: Pick<ManagedJob, 'tasks'>): number {
  return job.tasks.reduce((n, t) => n + t.recoveryCount, 0);
}

/** JOB DURATION at `now`: finished attempts plus the one RUNNING now. */
export function jobDuration(job: Pick<ManagedJob, 'jobDurationMs' | 'runningSince'>, now = Date.now()): number {
  return job.jobDurationMs + (job.runningSince !== undefined ? Math.max(0, now - job.runningSince) : 0);
}

const jobId = z.number().int().min(1);

/** `skydeck jobs launch`: one task, or a pipeline (the documents of a multi-document file, in order). */
export const jobsLaunchBody = z.strictObject({
  tasks: z.array(taskSchema).min(1).max(32),
  /** The job's name (`-n`, else the pipeline header's or the first task's). */
  name: z.string().min(1).max(128).optional(),
});

/** `skydeck jobs queue`: the caller's jobs, or everyone's (admins) with allUsers. */
export const jobsQueueBody = z.strictObject({
  allUsers: z.boolean().optional(),
  skipFinished: z.boolean().optional(),
  /** Most recent first, at most this many (default 50; `-a` asks for all). */
  limit: z.number().int().min(1).optional(),
});

/** `skydeck jobs cancel ID... | -n NAME | -a [-u]`. */
export const jobsCancelBody = z
  .strictObject({ jobIds: z.array(jobId).max(1000).optional(), name: z.string().min(1).max(128).optional(), all: z.boolean().optional(), allUsers: z.boolean().optional() })
  .refine((b) => [(b.jobIds?.length ?? 0) > 0, b.name !== undefined, b.all === true].filter(Boolean).length === 1, 'give jobIds, name or all: true (one of them)')
  .refine((b) => !b.allUsers || b.all === true, 'allUsers goes with all: true');

/** `skydeck jobs logs ID [--no-follow] [--controller]`: the job's output across recoveries, or what the controller did. */
export const jobsLogsBody = z.strictObject({
  /** Absent: the caller's most recent job. */
  jobId: jobId.optional(),
  follow: z.boolean().optional(),
  controller: z.boolean().optional(),
  tail: z.number().int().min(0).optional(),
});

export interface JobsLaunchResult {
  jobId: number;
}

export interface JobsQueueResult {
  jobs: ManagedJob[];
}

export interface JobsCancelResult {
  /** Jobs this call cancelled (others had already ended). */
  cancelled: number[];
}

export interface JobsLogsResult {
  jobId?: number;
  status?: ManagedJobStatus;
}

/** GET /api/jobs query: `all_users=1` for everyone's (admins). */
export const jobListQuery = z.object({ all_users: z.string().optional().transform((v) => v === '1' || v === 'true') });

/** GET /api/jobs[?all_users=1]: the caller's managed jobs, newest first (everyone's for an admin who asks). */
export interface ManagedJobListResponse {
  jobs: ManagedJob[];
}
