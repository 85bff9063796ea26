// Managed jobs: tasks whose whole life the server owns (a cluster of their own, recovery when the infra
// fails under them, teardown at the end). The record every side shows, its statuses (SkyPilot's) and the
// results of the jobs.* operations. Operations are submitted like any other (POST
// /api/v1/jobs.launch ...; bodies in jobs-schemas.ts, apart so views need no zod); direct reads:
// GET /api/jobs -> ManagedJobListResponse.
import type { User } from './model';

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

/** GET /api/jobs[?all_users=1]: the caller's managed jobs, newest first (everyone's for an admin who asks). */
export interface ManagedJobListResponse {
  jobs: ManagedJob[];
}
