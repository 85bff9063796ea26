// The data model every side shares: requests, clusters, jobs and who owns them.
import type { OperationBody, OperationName, OperationResult } from './api';
import type { ErrorCode } from './errors';

export const REQUEST_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const CLUSTER_STATUSES = ['INIT', 'UP', 'STOPPED'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

export const JOB_STATUSES = ['PENDING', 'SETTING_UP', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

const FINISHED_REQUEST: ReadonlySet<RequestStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const FINISHED_JOB: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function isRequestFinished(status: RequestStatus): boolean {
  return FINISHED_REQUEST.has(status);
}

export function isJobFinished(status: JobStatus): boolean {
  return FINISHED_JOB.has(status);
}

/** Long requests run under a concurrency limit; short ones never wait behind them. */
export type Schedule = 'long' | 'short';

export interface User {
  /** 8 hex digits, from SKYDECK_HOME/user_hash or SKYDECK_USER_ID, or the authenticated account. */
  id: string;
  name: string;
}

export interface ErrorInfo {
  /** Why the request failed: a code from the catalogue (protocol/errors.ts), such as `job_failed`. */
  type: ErrorCode;
  message: string;
}

/** What every request has, whatever its operation. */
export interface RequestFields {
  id: string;
  status: RequestStatus;
  user: User;
  clusterName?: string;
  schedule: Schedule;
  error?: ErrorInfo;
  /** Why a request waits (queue position, cluster lock) or what it is doing now. */
  statusMessage?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** A request of one operation: its body as validated (secrets redacted) and its result. */
export type OperationRequest<N extends OperationName> = RequestFields & { name: N; body: OperationBody<N>; result?: OperationResult<N> };

/** The server's own long-lived request (`api status -a` shows it), not one a client can submit. */
export type SystemRequest = RequestFields & { name: 'status-refresh-daemon'; body: { intervalSeconds: number }; result?: undefined };

/** Any request; `request.name` narrows its body and result. */
export type ApiRequest = { [N in OperationName]: OperationRequest<N> }[OperationName] | SystemRequest;

/** What listings carry: a request without its body and result, which can be large. */
export type RequestSummary = RequestFields & { name: string };

export function summarize(request: ApiRequest): RequestSummary {
  const { body: _body, result: _result, ...summary } = request;
  return summary;
}

export interface Resources {
  infra: string;
  cpus?: string;
  memory?: string;
  accelerators?: string;
}

export interface ClusterNode {
  rank: number;
  /** Address other nodes and jobs use to reach it. */
  ip: string;
  host?: string;
}

export interface Cluster {
  name: string;
  infra: string;
  resources: Resources;
  numNodes: number;
  status: ClusterStatus;
  owner: User;
  launchedAt: number;
  /** Minutes idle before an automatic stop; absent when off. */
  autostop?: number;
  /** Autostop tears the cluster down instead of stopping it (`--down`, `autostop: {down: true}`). */
  autostopDown?: boolean;
  /**
   * Whether its infra can stop the cluster and start it again (and so autostop it without down):
   * clients offer stop, start and autostop only when true. Absent on records older than the field.
   */
  canStop?: boolean;
  /** Ports its jobs declared (`resources.ports`), reachable at the head node: see clusterEndpoints. */
  ports?: number[];
  /** The task's `resources.labels`, as given. */
  labels?: Record<string, string>;
  nodes: ClusterNode[];
  statusMessage?: string;
}

/** Where a cluster's declared ports answer: `http://HEAD:PORT`, the head node's address on its infra. */
export function clusterEndpoints(cluster: Pick<Cluster, 'ports' | 'nodes'>): { port: number; url: string }[] {
  const head = cluster.nodes.find((n) => n.rank === 0)?.ip;
  if (!head) return [];
  const host = head.includes(':') ? `[${head}]` : head;
  return (cluster.ports ?? []).map((port) => ({ port, url: `http://${host}:${port}` }));
}

export interface Job {
  cluster: string;
  jobId: number;
  name?: string;
  status: JobStatus;
  exitCode?: number;
  owner: User;
  /** The request that started it. */
  requestId?: string;
  submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  failureReason?: string;
  /** Why the job waits to start (a Slurm queue reason). */
  statusMessage?: string;
}
