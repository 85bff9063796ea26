// Copies a job's log into a request's log: what launch, exec and job_logs stream to their followers.
import { isJobFinished, type Job } from '../../protocol/model';
import { followFile } from '../logs/follow';
import type { JobRecord } from '../store/state-db';
import type { OperationContext } from './context';

/**
 * Copies from byte `from`, following while the job runs (woken by the job's own updates, so the copy
 * ends as soon as the job does). `onUpdate` sees every update of the job meanwhile.
 */
export async function copyJobLog(
  ctx: OperationContext<unknown>,
  job: JobRecord,
  options: { from: number; follow: boolean; onUpdate?: (job: Job) => void },
): Promise<void> {
  const { clusters } = ctx.services;
  const wakers = new Set<() => void>();
  const onJob = (_event: string, updated: Job) => {
    if (updated.cluster !== job.cluster || updated.jobId !== job.jobId) return;
    options.onUpdate?.(updated);
    for (const wake of wakers) wake();
  };
  clusters.on('job', onJob);
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
    clusters.off('job', onJob);
  }
}
