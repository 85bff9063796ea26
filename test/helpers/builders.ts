// Builders of well-formed protocol values for unit tests: each test states only what it is about.
import { OPERATIONS, type OperationBody, type OperationName, type OperationResult } from '../../protocol/api';
import type { ApiRequest, Cluster, Job, RequestFields, User } from '../../protocol/model';

export const ALICE: User = { id: 'a11ce000', name: 'alice' };

/** What makes a request one operation's: its name, body and result, paired. */
type OperationParts = { [N in OperationName]: { name: N; body: OperationBody<N>; result?: OperationResult<N> } }[OperationName];

/** A request of one operation, SUCCEEDED by default. */
export function aRequest(operation: OperationParts, fields: Partial<RequestFields> = {}): ApiRequest {
  return { id: 'abcdef12-0000-4000-8000-000000000000', status: 'SUCCEEDED', user: ALICE, schedule: OPERATIONS[operation.name].schedule, createdAt: 0, ...fields, ...operation };
}

/** A launch of `echo hi` on cluster c. */
export function aLaunch(fields: Partial<RequestFields> & { result?: OperationResult<'launch'>; detachRun?: boolean } = {}): ApiRequest {
  const { detachRun, result, ...rest } = fields;
  const body = { task: { run: 'echo hi' }, clusterName: 'c', ...(detachRun === undefined ? {} : { detachRun }) };
  return aRequest({ name: 'launch', body, ...(result ? { result } : {}) }, rest);
}

export function aCluster(fields: Partial<Cluster> = {}): Cluster {
  return { name: 'c', infra: 'local', resources: { infra: 'local' }, numNodes: 1, status: 'UP', owner: ALICE, launchedAt: 0, nodes: [{ rank: 0, ip: '127.0.0.1' }], ...fields };
}

export function aJob(fields: Partial<Job> = {}): Job {
  return { cluster: 'c', jobId: 1, status: 'RUNNING', owner: ALICE, submittedAt: 0, ...fields };
}
