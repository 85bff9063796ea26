// Every operation by name: what POST /api/v1/<name> runs.
import type { OperationName } from '../../protocol/api';
import { down, start, stop } from './cluster-lifecycle';
import { cancelJobs, jobLogs, queue, status } from './cluster-queries';
import { autostop } from './autostop';
import type { Operation } from './context';
import { exec, launch } from './run-task';
import { jobsCancel, jobsLaunch, jobsLogs, jobsQueue } from '../jobs/operations';

export const operations: { readonly [N in OperationName]: Operation<N> } = {
  launch,
  exec,
  start,
  stop,
  down,
  status,
  queue,
  cancel_jobs: cancelJobs,
  job_logs: jobLogs,
  autostop,
  'jobs.launch': jobsLaunch,
  'jobs.queue': jobsQueue,
  'jobs.cancel': jobsCancel,
  'jobs.logs': jobsLogs,
};

/** The operation a request of this name runs, typed by that name. */
export function operationFor<N extends OperationName>(name: N): Operation<N> {
  return operations[name];
}
