// status, queue, cancel_jobs and job_logs: reads and small changes that never wait behind launches.
import type { QueueResult, StatusResult } from '../../protocol/api';
import { mayActOn, requireOwner } from '../auth/policy';
import { tailOffset } from '../logs/follow';
import type { Operation } from './context';
import { copyJobLog } from './job-log-copy';

export const status: Operation<'status'> = {
  run: async (ctx): Promise<StatusResult> => {
    const { clusters } = ctx.services;
    const names = ctx.body.clusterNames;
    const list = names && names.length > 0 ? names.map((n) => clusters.public(clusters.require(n))) : clusters.list();
    return { clusters: list };
  },
};

export const queue: Operation<'queue'> = {
  preflight: (body, services) => void services.clusters.require(body.clusterName),
  run: async (ctx): Promise<QueueResult> => ({ jobs: ctx.services.clusters.allJobs(ctx.body.clusterName) }),
};

export const cancelJobs: Operation<'cancel_jobs'> = {
  preflight: (body, services, caller) => {
    // The cluster's owner may cancel any job on it; anyone else only the jobs they submitted.
    const cluster = services.clusters.require(body.clusterName);
    if (mayActOn(caller, cluster.owner)) return void (body.jobIds ?? []).forEach((id) => services.clusters.job(body.clusterName, id));
    if (body.all) requireOwner(caller, cluster.owner, 'cancel every job on', `cluster ${body.clusterName}`);
    for (const id of body.jobIds ?? []) requireOwner(caller, services.clusters.job(body.clusterName, id).owner, 'cancel', `job ${id} on ${body.clusterName}`);
  },
  run: async (ctx) => {
    const { clusters } = ctx.services;
    const name = ctx.body.clusterName;
    // -a is the caller's own jobs, as in SkyPilot; -a -u everyone's.
    const ids = ctx.body.all ? clusters.activeJobs(name).filter((j) => ctx.body.allUsers || j.owner.id === ctx.user.id).map((j) => j.jobId) : (ctx.body.jobIds ?? []);
    if (ctx.body.all && ids.length === 0) ctx.log.line(`No unfinished jobs of ${ctx.body.allUsers ? 'anyone' : 'yours'} on ${name}.`);
    const cancelled: number[] = [];
    for (const id of ids) {
      if (await clusters.cancelJob(name, id)) {
        cancelled.push(id);
        ctx.log.line(`Cancelled job ${id} on ${name}.`);
      } else {
        ctx.log.line(`Job ${id} on ${name} had already ended.`);
      }
    }
    return { cancelled };
  },
};

/** Copies a job's log into this request's log: the tail or all of it, following while the job runs. */
export const jobLogs: Operation<'job_logs'> = {
  preflight: (body, services) => {
    services.clusters.require(body.clusterName);
    if (body.jobId !== undefined) services.clusters.job(body.clusterName, body.jobId);
  },
  run: async (ctx) => {
    const { clusters } = ctx.services;
    const name = ctx.body.clusterName;
    const jobs = clusters.jobs(name);
    const job = ctx.body.jobId !== undefined ? clusters.job(name, ctx.body.jobId) : jobs[jobs.length - 1];
    if (!job) {
      ctx.log.line(`Cluster ${name} has no jobs yet.`);
      return { clusterName: name };
    }
    const from = ctx.body.tail !== undefined ? await tailOffset(job.logPath, ctx.body.tail) : 0;
    await copyJobLog(ctx, job, { from, follow: ctx.body.follow !== false });
    return { clusterName: name, jobId: job.jobId, jobStatus: job.status, exitCode: job.exitCode };
  },
};
