// The data model every side shares: requests, clusters, jobs and who owns them.
import type { OperationBody, OperationName, OperationResult } from './api';
import type { z } from 'zod';
import type { ErrorCode } from './errors';
import type { clusterNodeSchema, clusterSchema, jobSchema, resourcesSchema, userSchema } from './results';

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

export type User = z.output<typeof userSchema>;

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

// Clusters and jobs are typed by their schemas (protocol/results.ts), which results are checked against.
export type Resources = z.output<typeof resourcesSchema>;
export type ClusterNode = z.output<typeof clusterNodeSchema>;
export type Cluster = z.output<typeof clusterSchema>;
export type Job = z.output<typeof jobSchema>;

/** Where a cluster's declared ports answer: `http://HEAD:PORT`, the head node's address on its infra. */
export function clusterEndpoints(cluster: Pick<Cluster, 'ports' | 'nodes'>): { port: number; url: string }[] {
  const head = cluster.nodes.find((n) => n.rank === 0)?.ip;
  if (!head) return [];
  const host = head.includes(':') ? `[${head}]` : head;
  return (cluster.ports ?? []).map((port) => ({ port, url: `http://${host}:${port}` }));
}
