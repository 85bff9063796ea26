// The wire protocol: HTTP routes, request bodies (with their schemas) and answers, WebSocket messages.
import * as z from 'zod';
import type { ErrorCode } from './errors';
import { REQUEST_STATUSES, type ApiRequest, type Cluster, type Job, type RequestStatus, type RequestSummary, type Schedule, type User } from './model';
import { jobsCancelBody, jobsLaunchBody, jobsLogsBody, jobsQueueBody } from './jobs-schemas';
import { autostopResult, cancelJobsResult, clusterResult, jobLogsResult, jobsCancelResult, jobsLaunchResult, jobsLogsResult, jobsQueueResult, launchResult, queueResult, statusResult } from './results';
import { taskSchema } from './task';
import { CLUSTER_NAME, REQUEST_ID_PREFIX } from './wire';

// The constants live apart from the schemas so that clients needing only them do not load zod.
export * from './wire';

export const clusterName = z.lazy(() => z.string().regex(CLUSTER_NAME, 'cluster names are lowercase letters, digits and -, starting with a letter (at most 63)'));

export const launchBody = z.lazy(() => z.strictObject({
  task: taskSchema,
  clusterName,
  /** Return once the job has started instead of following it to the end. */
  detachRun: z.boolean().optional(),
  /** Minutes idle before the cluster stops itself. */
  idleMinutesToAutostop: z.number().int().min(0).optional(),
  /** Tear the cluster down once its jobs are done (after idleMinutesToAutostop idle, when given): SkyPilot's --down. */
  down: z.boolean().optional(),
  /** Wait for capacity (saying why on the request) instead of failing when no infra can hold the task now. */
  retryUntilUp: z.boolean().optional(),
  /** Skip the task's setup. */
  noSetup: z.boolean().optional(),
  /** On a cluster that is already UP, skip provisioning and setup. */
  fast: z.boolean().optional(),
}));
export const execBody = z.lazy(() => z.strictObject({ task: taskSchema, clusterName, detachRun: z.boolean().optional() }));
export const clusterBody = z.lazy(() => z.strictObject({ clusterName }));
/** `purge`: SkyPilot's `down --purge`, the cluster is forgotten even when its teardown fails (the log says what may be left). */
export const downBody = z.lazy(() => z.strictObject({ clusterName, purge: z.boolean().optional() }));
export const statusBody = z.lazy(() => z.strictObject({ clusterNames: z.array(clusterName).optional(), refresh: z.boolean().optional() }));
export const queueBody = z.lazy(() => z.strictObject({ clusterName, allUsers: z.boolean().optional() }));
/** `all`: the caller's unfinished jobs on the cluster (SkyPilot's `cancel -a`); with `allUsers`, everyone's (`-a -u`). */
export const cancelJobsBody = z.lazy(() => z
  .strictObject({ clusterName, jobIds: z.array(z.number().int().min(1)).optional(), all: z.boolean().optional(), allUsers: z.boolean().optional() })
  .refine((b) => (b.jobIds?.length ?? 0) > 0 || b.all === true, 'give jobIds or all: true')
  .refine((b) => !b.allUsers || b.all === true, 'allUsers goes with all: true'));
export const jobLogsBody = z.lazy(() => z.strictObject({ clusterName, jobId: z.number().int().min(1).optional(), follow: z.boolean().optional(), tail: z.number().int().min(0).optional() }));

/** `skydeck autostop CLUSTER -i N [--down] | --cancel`: set or clear a cluster's autostop (autodown with down). */
export const autostopBody = z.lazy(() => z
  .strictObject({ clusterName, idleMinutes: z.number().int().min(0).optional(), down: z.boolean().optional(), cancel: z.boolean().optional() })
  .refine((b) => !(b.cancel && (b.idleMinutes !== undefined || b.down)), 'give cancel alone, or idleMinutes/down'));

const operationSpecs = {
  launch: { schedule: 'long', body: launchBody, result: launchResult },
  exec: { schedule: 'long', body: execBody, result: launchResult },
  start: { schedule: 'long', body: clusterBody, result: clusterResult },
  stop: { schedule: 'short', body: clusterBody, result: clusterResult },
  down: { schedule: 'short', body: downBody, result: clusterResult },
  status: { schedule: 'short', body: statusBody, result: statusResult },
  queue: { schedule: 'short', body: queueBody, result: queueResult },
  cancel_jobs: { schedule: 'short', body: cancelJobsBody, result: cancelJobsResult },
  job_logs: { schedule: 'short', body: jobLogsBody, result: jobLogsResult },
  autostop: { schedule: 'short', body: autostopBody, result: autostopResult },
  // Managed jobs (protocol/jobs.ts): short requests; the jobs themselves run under the server's controller.
  'jobs.launch': { schedule: 'short', body: jobsLaunchBody, result: jobsLaunchResult },
  'jobs.queue': { schedule: 'short', body: jobsQueueBody, result: jobsQueueResult },
  'jobs.cancel': { schedule: 'short', body: jobsCancelBody, result: jobsCancelResult },
  'jobs.logs': { schedule: 'short', body: jobsLogsBody, result: jobsLogsResult },
} as const;

export type OperationName = keyof typeof operationSpecs;
export type OperationBody<N extends OperationName> = z.output<(typeof operationSpecs)[N]['body']>;
/** What a SUCCEEDED request of each operation has as `result` (a failed launch or exec keeps its LaunchResult too). */
export type OperationResult<N extends OperationName> = z.output<(typeof operationSpecs)[N]['result']>;
export type LaunchBody = OperationBody<'launch'>;
export type ExecBody = OperationBody<'exec'>;

export interface OperationSpec<N extends OperationName> {
  schedule: Schedule;
  body: z.ZodType<OperationBody<N>>;
  result: z.ZodType<OperationResult<N>>;
}

/**
 * Every operation a client can submit: its schedule, and the schemas of its body and of its result.
 * Typed by name, so `OPERATIONS[name]` for a generic name is that operation's schemas.
 */
export const OPERATIONS: { readonly [N in OperationName]: OperationSpec<N> } = operationSpecs;

const submissionOf = <N extends OperationName>(name: N) => z.object({ name: z.literal(name), body: OPERATIONS[name].body });

/**
 * An operation's name with its validated body, one member per operation. A request is built from one
 * (spreading it keeps name and body paired), which TypeScript cannot see for a generic name.
 */
const operationSubmission = z.lazy(() => z.discriminatedUnion('name', [
  submissionOf('launch'),
  submissionOf('exec'),
  submissionOf('start'),
  submissionOf('stop'),
  submissionOf('down'),
  submissionOf('status'),
  submissionOf('queue'),
  submissionOf('cancel_jobs'),
  submissionOf('job_logs'),
  submissionOf('autostop'),
  submissionOf('jobs.launch'),
  submissionOf('jobs.queue'),
  submissionOf('jobs.cancel'),
  submissionOf('jobs.logs'),
]));
export type OperationSubmission = z.output<typeof operationSubmission>;
// Fails to compile when an operation is missing above.
const everyOperationSubmits: OperationName extends OperationSubmission['name'] ? true : never = true;
void everyOperationSubmits;

/** Validates a submitted body for its operation; issue paths are relative to the body (`task.run`). */
export function parseSubmission(name: OperationName, raw: unknown): { success: true; data: OperationSubmission } | { success: false; issues: z.core.$ZodIssue[] } {
  const parsed = operationSubmission.safeParse({ name, body: raw });
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, issues: parsed.error.issues.map((i) => ({ ...i, path: i.path.slice(1) })) };
}

/** Validates a result against its operation's schema (the server before storing it, clients after reading it). */
export function parseOperationResult<N extends OperationName>(name: N, raw: unknown): z.ZodSafeParseResult<OperationResult<N>> {
  return OPERATIONS[name].result.safeParse(raw);
}

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

// ---- query strings (validated by server/http/validate.ts like bodies) ----

/** `1` or `true` is yes; anything else (or absent) takes the default. */
const queryFlag = (byDefault: boolean) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined ? byDefault : v === '1' || v === 'true'));
const queryNumber = (what: string, min: number, max: number, integer: boolean) =>
  z.coerce
    .number()
    .refine((n) => Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n)), `${what} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`)
    .optional();

/** GET /api/requests */
export const requestListQuery = z.lazy(() => z.object({
  status: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(REQUEST_STATUSES, `status must be one of ${REQUEST_STATUSES.join(', ')}`))
    .optional(),
  limit: queryNumber('limit', 1, 100_000, true),
  cluster: clusterName.optional(),
  user: z.string().optional(),
  all: queryFlag(false),
  system: queryFlag(false),
}));

/** GET /api/requests/:id: `wait` seconds for the request to finish before answering. */
export const requestGetQuery = z.lazy(() => z.object({ wait: queryNumber('wait (seconds)', 0, 600, false) }));

/** GET /api/stream (see above). Unknown keys pass: a signed link adds its own. */
export const streamQuery = z.lazy(() => z.object({
  request_id: z.string({ error: 'give request_id' }),
  follow: queryFlag(true),
  tail: queryNumber('tail (lines)', 0, Number.MAX_SAFE_INTEGER, true),
  format: z.string().optional(),
}));

export const cancelBody = z.lazy(() => z.union([
  z.strictObject({ requestIds: z.array(z.string().regex(REQUEST_ID_PREFIX, 'not a request id')).min(1).max(1000) }),
  z.strictObject({ all: z.literal(true), allUsers: z.boolean().optional() }),
]));

export type CancelBody = z.output<typeof cancelBody>;

/**
 * Direct reads (no request is created; cheap enough for views to call often):
 *   GET /api/clusters                     -> ClusterListResponse
 *   GET /api/clusters/:name/jobs          -> QueueResult
 *   GET /api/infra                        -> InfraListResponse (protocol/infra.ts: what `skydeck check` and `gpus list` print)
 *   POST /api/plan {task, clusterName?}   -> PlanResponse: where a launch would run, before submitting it
 *     (400 resources_unavailable with the reason per infra when nothing fits)
 * Log streams:
 *   GET /api/stream?request_id=ID[&follow=1|0][&tail=N][&format=plain|html]
 *     chunked text/plain; ends when the request has finished (follow) or at the current end (no follow).
 *     A browser (Accept: text/html, no format=plain) gets a page that follows live.
 *     After HEARTBEAT_MS of silence the server writes STREAM_HEARTBEAT, which clients drop.
 */

export const planBody = z.lazy(() => z.strictObject({ task: taskSchema, clusterName: clusterName.optional() }));

export interface PlacementRow {
  infra: string;
  numNodes: number;
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
  chosen: boolean;
}

export interface PlanResponse {
  /** Set when the cluster exists: a launch reuses it and nothing is placed. */
  existingCluster?: Cluster;
  considered: PlacementRow[];
  refusals: { infra: string; reason: string }[];
  /** The "Considered resources" table as the server logs it. */
  table: string;
}

export type { InfraListResponse } from './infra';

export interface ClusterListResponse {
  clusters: Cluster[];
}

// ---- answers ----

export interface HealthResponse {
  status: 'healthy';
  version: string;
  commit: string;
  apiVersion: number;
  /** The caller as the server sees them. */
  user: User;
  /** Whether the server checks credentials (a team server) or trusts the claimed identity (local). */
  auth: 'none' | 'basic' | 'token' | 'local-token';
  startedAt: number;
}

export interface SubmitResponse {
  requestId: string;
}

export interface CancelResponse {
  /** Ids of the requests this call cancelled. */
  cancelled: string[];
}

export interface RequestListResponse {
  requests: RequestSummary[];
}

export type { ErrorResponse } from './errors';

export type LaunchResult = OperationResult<'launch'>;
/** What `start`, `stop` and `down` return. */
export type ClusterResult = OperationResult<'start'>;
export type StatusResult = OperationResult<'status'>;
export type QueueResult = OperationResult<'queue'>;
export type CancelJobsResult = OperationResult<'cancel_jobs'>;
export type JobLogsResult = OperationResult<'job_logs'>;
export type AutostopResult = OperationResult<'autostop'>;


// ---- WebSocket (GET /api/ws) ----

export type ClientMessage =
  /** Receive request events (created, status changed) for everyone's requests. */
  | { type: 'subscribe-requests' }
  | { type: 'subscribe-clusters' }
  /**
   * Stream a request's log: from byte `offset` (to resume after a reconnect), else `tail` lines from
   * the end, else from the start.
   */
  | { type: 'subscribe-log'; sub: string; requestId: string; follow?: boolean; tail?: number; offset?: number }
  | { type: 'unsubscribe'; sub: string }
  | { type: 'ping' };

export type ServerMessage =
  /** Sent once after subscribe-requests: every ongoing request and the most recent finished ones. */
  | { type: 'requests-snapshot'; requests: RequestSummary[] }
  | { type: 'request'; event: 'created' | 'updated'; request: RequestSummary }
  /** Sent once after subscribe-clusters. */
  | { type: 'clusters-snapshot'; clusters: Cluster[] }
  | { type: 'cluster'; event: 'updated' | 'removed'; cluster: Cluster }
  | { type: 'job'; event: 'updated'; job: Job }
  /** `offset`: the log's byte offset just after this chunk; subscribe from it to continue. */
  | { type: 'log'; sub: string; requestId: string; data: string; offset: number }
  | { type: 'log-end'; sub: string; requestId: string; status: RequestStatus }
  | { type: 'error'; sub?: string; code: ErrorCode; message: string }
  | { type: 'pong' };

export const clientMessage = z.lazy(() => z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe-requests') }),
  z.strictObject({ type: z.literal('subscribe-clusters') }),
  z.strictObject({
    type: z.literal('subscribe-log'),
    sub: z.string().min(1).max(64),
    requestId: z.string().regex(REQUEST_ID_PREFIX, 'not a request id'),
    follow: z.boolean().optional(),
    tail: z.number().int().min(0).max(1_000_000).optional(),
    offset: z.number().int().min(0).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), sub: z.string().min(1).max(64) }),
  z.strictObject({ type: z.literal('ping') }),
]));

export type { ApiRequest };
