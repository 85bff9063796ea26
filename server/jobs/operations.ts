// The jobs.* operations: submit a managed job, list, cancel, and stream a job's log (or its controller's).
// A managed job belongs to its user: only they or an admin see, follow or cancel it.
import { isManagedJobFinished, type JobsQueueResult, type ManagedJob } from '../../protocol/jobs';
import { TaskValidationError } from '../../protocol/task';
import type { Principal } from '../auth/identity';
import { mayActOn, requireAdmin, requireOwner } from '../auth/policy';
import { fail } from '../errors';
import { followFile, tailOffset } from '../logs/follow';
import type { Operation, Services } from '../operations/context';
import { checkTask } from '../operations/run-task';
import { unknownStrategy } from './recovery';

/** The queue's default length, as `sky jobs queue` (`-a` shows all). */
const QUEUE_LIMIT = 50;

function requireJob(services: Services, id: number, caller: Principal, action: string): ManagedJob {
  const job = services.jobs.store.require(id);
  requireOwner(caller, job.owner, action, `managed job ${id}`);
  return job;
}

/** The caller's most recent job, for `jobs logs` without an id. */
function latestOf(services: Services, caller: Principal): ManagedJob {
  const mine = services.jobs.store.all().filter((j) => j.owner.id === caller.user.id);
  const latest = mine.at(-1);
  if (!latest) throw fail.not_found('you have no managed jobs');
  return latest;
}

export const jobsLaunch: Operation<'jobs.launch'> = {
  preflight(body, services, caller) {
    body.tasks.forEach((task, i) => {
      // Issue paths name the task of the pipeline: `tasks.1.resources.infra`.
      const at = (path: string) => `tasks.${i}${path ? `.${path}` : ''}`;
      try {
        checkTask(task, services, caller);
      } catch (err) {
        if (!(err instanceof TaskValidationError)) throw err;
        throw fail.task_invalid(err.message, err.issues.map((issue) => ({ ...issue, path: at(issue.path) })));
      }
      const strategy = unknownStrategy(task);
      if (strategy) throw fail.task_invalid(`${at('resources.job_recovery')}: unknown strategy ${strategy}; SkyDeck knows EAGER_NEXT_REGION and FAILOVER`, [{ path: at('resources.job_recovery'), message: `unknown strategy ${strategy}` }]);
    });
  },
  run: async (ctx) => {
    const job = await ctx.services.jobs.submit(ctx.body.tasks, ctx.body.name, ctx.user, ctx.request.id);
    ctx.log.line(`Managed job ${job.id}${job.name ? ` (${job.name})` : ''} submitted: ${job.tasks.length} task${job.tasks.length === 1 ? '' : 's'}.`);
    return { jobId: job.id };
  },
};

export const jobsQueue: Operation<'jobs.queue'> = {
  preflight: (body, _services, caller) => {
    if (body.allUsers) requireAdmin(caller, "list everyone's managed jobs");
  },
  run: async (ctx): Promise<JobsQueueResult> => {
    const { allUsers, skipFinished, limit } = ctx.body;
    const jobs = ctx.services.jobs.store
      .all()
      .filter((j) => (allUsers || j.owner.id === ctx.caller.user.id) && (!skipFinished || !isManagedJobFinished(j.status)))
      .reverse();
    return { jobs: jobs.slice(0, limit ?? QUEUE_LIMIT) };
  },
};

export const jobsCancel: Operation<'jobs.cancel'> = {
  preflight: (body, services, caller) => {
    if (body.allUsers) requireAdmin(caller, "cancel everyone's managed jobs");
    for (const id of body.jobIds ?? []) requireJob(services, id, caller, 'cancel');
  },
  run: async (ctx) => {
    const { store } = ctx.services.jobs;
    const { jobIds, name, all, allUsers } = ctx.body;
    const unfinished = store.live().filter((j) => !isManagedJobFinished(j.status));
    const ids =
      jobIds ??
      unfinished
        .filter((j) => (all ? allUsers || j.owner.id === ctx.caller.user.id : j.name === name && mayActOn(ctx.caller, j.owner)))
        .map((j) => j.id);
    if (name !== undefined && ids.length === 0) throw fail.not_found(`no unfinished managed job of yours is named ${name}`);
    const cancelled: number[] = [];
    await Promise.all(
      ids.map(async (id) => {
        if (await ctx.services.jobs.cancel(id)) {
          cancelled.push(id);
          ctx.log.line(`Managed job ${id}: ${store.require(id).status}.`);
        } else {
          ctx.log.line(`Managed job ${id} had already ended (${store.require(id).status}).`);
        }
      }),
    );
    return { cancelled: cancelled.sort((a, b) => a - b) };
  },
};

export const jobsLogs: Operation<'jobs.logs'> = {
  preflight: (body, services, caller) => {
    if (body.jobId !== undefined) requireJob(services, body.jobId, caller, 'read the log of');
    else latestOf(services, caller);
  },
  run: async (ctx) => {
    const { store } = ctx.services.jobs;
    const id = ctx.body.jobId ?? latestOf(ctx.services, ctx.caller).id;
    requireJob(ctx.services, id, ctx.caller, 'read the log of');
    const file = ctx.body.controller ? store.controllerLogPath(id) : store.logPath(id);
    const from = ctx.body.tail !== undefined ? await tailOffset(file, ctx.body.tail) : 0;
    const finished = () => isManagedJobFinished(store.require(id).status);
    // Woken by the job's own changes, so the copy ends as soon as the job does.
    const wakers = new Set<() => void>();
    const onJob = (job: ManagedJob) => {
      if (job.id === id) for (const wake of wakers) wake();
    };
    store.on('job', onJob);
    try {
      await followFile(file, {
        from,
        follow: ctx.body.follow !== false,
        isDone: finished,
        onData: (chunk) => ctx.log.append(chunk),
        signal: ctx.signal,
        subscribeWake: (wake) => (wakers.add(wake), () => wakers.delete(wake)),
      });
    } finally {
      store.off('job', onJob);
    }
    return { jobId: id, status: store.require(id).status };
  },
};
