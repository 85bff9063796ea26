// A managed job as the server stores it: the public record plus what the controller needs to carry on
// after a restart (the tasks as submitted, secrets included, and where the current attempt stands).
import type { ManagedJob } from '../../protocol/jobs';
import type { Task } from '../../protocol/task';

/** One try of the current task on one cluster. */
export interface Attempt {
  /** The cluster provisioned for it (`sky-jobs-<id>-<n>`). */
  cluster: string;
  /** The job on that cluster, once started. */
  clusterJobId?: number;
  /** Size of the job's log when this attempt's output began to be copied into it. */
  logStart?: number;
}

export interface ManagedJobRecord extends ManagedJob {
  /** The tasks as submitted (secrets included); dropped when the job ends. */
  specs?: Task[];
  /** SKYPILOT_TASK_ID of each task: the same on every cluster it is recovered onto. */
  taskIds: string[];
  attempt?: Attempt;
  /**
   * Clusters the job is done with that may still exist. A failed attempt's is kept until the next attempt
   * has a cluster (while it holds the nodes that failed, the optimizer places the job elsewhere), an ended
   * attempt's is torn down at once. Each leaves the list only once it is gone, so a restarted server
   * tears down whatever a killed one had not.
   */
  retiring: string[];
  /** Numbers the job's clusters. */
  attempts: number;
}

export function publicManagedJob(record: ManagedJobRecord): ManagedJob {
  const { specs: _specs, taskIds: _taskIds, attempt: _attempt, retiring: _retiring, attempts: _attempts, ...job } = record;
  return job;
}
