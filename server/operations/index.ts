// Every operation by name: what POST /api/v1/<name> runs.
import type { OperationName } from '../../protocol/api';
import { down, start, stop } from './cluster-lifecycle';
import { cancelJobs, jobLogs, queue, status } from './cluster-queries';
import { autostop } from './autostop';
import type { Operation } from './context';
import { exec, launch } from './run-task';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const operations: Record<OperationName, Operation<any>> = {
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
