// Copies a job's log into a request's log: what launch, exec and job_logs stream to their followers.
import { isJobFinished, type Job } from '../../protocol/model';
import type { ClusterService } from '../clusters/cluster-service';
import { followFile } from '../logs/follow';
import type { JobRecord } from '../store/state-db';
import type { OperationName } from '../../protocol/api';
import type { OperationContext } from './context';

type JobWatcher = (job: Job) => void;

/**
 * Watchers of single jobs, behind one 'job' listener per cluster service: any number of requests can
 * follow jobs at once without a listener each on the service (and Node's leak warning past ten).
 */
const watchersByService = new WeakMap<ClusterService, Map<string, Set<JobWatcher>>>();

function watchJob(clusters: ClusterService, job: Pick<Job, 'cluster' | 'jobId'>, watcher: JobWatcher): () => void {
  let byJob = watchersByService.get(clusters);
  if (!byJob) {
    const registry = new Map<string, Set<JobWatcher>>();
    byJob = registry;
    watchersByService.set(clusters, registry);
    clusters.on('job', (_event, updated) => {
      for (const w of registry.get(`${updated.cluster}/${updated.jobId}`) ?? []) w(updated);
    });
  }
  const key = `${job.cluster}/${job.jobId}`;
  let set = byJob.get(key);
  if (!set) byJob.set(key, (set = new Set()));
  set.add(watcher);
  return () => {
    set.delete(watcher);
    if (set.size === 0) byJob.delete(key);
  };
}

/**
 * Copies from byte `from`, following while the job runs (woken by the job's own updates, so the copy
 * ends as soon as the job does). `onUpdate` sees every update of the job meanwhile.
 */
export async function copyJobLog(
  ctx: OperationContext<OperationName>,
  job: JobRecord,
  options: { from: number; follow: boolean; onUpdate?: (job: Job) => void },
): Promise<void> {
  const wakers = new Set<() => void>();
  const unwatch = watchJob(ctx.services.clusters, job, (updated) => {
    options.onUpdate?.(updated);
    for (const wake of wakers) wake();
  });
  try {
    await followFile(job.logPath, {
      from: options.from,
      follow: options.follow,
      isDone: () => isJobFinished(job.status),
      onData: (chunk) => ctx.log.append(chunk),
      signal: ctx.signal,
      subscribeWake: (wake) => (wakers.add(wake), () => wakers.delete(wake)),
    });
  } finally {
    unwatch();
  }
}
