// Every operation by name: what POST /api/v1/<name> runs.
import type { OperationName } from '../../protocol/api';
import { down, start, stop } from './cluster-lifecycle';
import { cancelJobs, jobLogs, queue, status } from './cluster-queries';
import { autostop } from './autostop';
import type { Operation } from './context';
import { exec, launch } from './run-task';

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
};

/** The operation a request of this name runs, typed by that name. */
export function operationFor<N extends OperationName>(name: N): Operation<N> {
  return operations[name];
}
