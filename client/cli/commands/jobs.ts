// `skydeck jobs launch | queue | logs | cancel`: managed jobs, whose whole life the server owns (their own
// cluster, recovery when the infra fails under them, teardown at the end).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ManagedJob } from '../../../protocol/jobs';
import { isManagedJobFinished, jobDuration, recoveryCount } from '../../../protocol/jobs';
import type { ApiRequest } from '../../../protocol/model';
import { TaskValidationError } from '../../../protocol/task-issues';
import type { ApiClient } from '../../api-client';
import { isApiError, taskIssues } from '../../errors';
import { resultOf } from '../../results';
import { duration, relativeTime, table } from '../../format';
import { inlineTask, loadTaskChain, type TaskSource } from '../../task-file';
import { uploadTaskFiles } from '../../upload';
import { GRACEFUL_NOTE, jobNumber, refuseFlag } from '../args';
import { connect } from '../context';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { CliExit, EXIT, jsonOutput, note, print, printJson } from '../output';
import { confirm } from '../prompt';
import { prepareTask, type RunTaskOptions } from './launch';

/**
 * `sky jobs launch`'s options: the task flags of launch, with -n naming the job (-c is SkyPilot's deprecated
 * alias of it); -d returns once the job is submitted.
 */
export type JobsLaunchOptions = Omit<RunTaskOptions, 'idleMinutesToAutostop' | 'dryrun' | 'down' | 'retryUntilUp' | 'setup' | 'fast' | 'waitFor' | 'clone' | 'docker'> & {
  /** Refused: SkyDeck has no pools (and --num-jobs goes with a pool). */
  pool?: string;
  numJobs?: number;
};

const NO_POOLS = 'SkyDeck has no pools of workers; each managed job gets a cluster of its own (drop the flag)';

/** Flags that change one task's resources or files: a pipeline's tasks each give their own. */
const ONE_TASK_FLAGS = ['workdir', 'gitUrl', 'gitRef', 'jobRecovery', 'infra', 'cloud', 'region', 'zone', 'numNodes', 'cpus', 'memory', 'gpus', 'instanceType', 'useSpot', 'imageId', 'diskSize', 'diskTier', 'networkTier'] as const;

export async function launch(entrypoint: string[], given: JobsLaunchOptions): Promise<void> {
  if (given.pool !== undefined) refuseFlag('-p/--pool', NO_POOLS);
  if (given.numJobs !== undefined) refuseFlag('--num-jobs', `it submits jobs to a pool, and ${NO_POOLS}`);
  if (given.cluster !== undefined && given.name !== undefined && given.cluster !== given.name) throw new CliExit(EXIT.usage, 'Error: -c/--cluster is an alias of -n/--name; give one of them');
  if (given.cluster !== undefined) note('-c/--cluster is a deprecated alias of -n/--name for managed jobs (as in SkyPilot); it names the job.');
  const options: JobsLaunchOptions = { ...given, name: given.name ?? given.cluster, cluster: undefined };
  const { name: chainName, sources: raw } = taskSources(entrypoint);
  if (raw.length > 1) {
    const given = ONE_TASK_FLAGS.filter((f) => options[f] !== undefined);
    if (given.length > 0 || (options.ports?.length ?? 0) > 0) {
      throw new CliExit(EXIT.usage, `Error: ${[...given, ...((options.ports?.length ?? 0) > 0 ? ['ports'] : [])].map(flag).join(', ')} change one task; this file is a pipeline of ${raw.length} tasks, each giving its own resources`);
    }
  }
  // -n names the job (and a one-task job's task, as the task flags do); envs and secrets go to every task.
  const sources = raw.map((s) => prepareTask(s, { ...options, name: raw.length === 1 ? options.name : undefined }));
  const jobName = options.name ?? chainName ?? sources[0]!.task.name;
  const { client } = await connect();
  try {
    if (!options.yes) {
      print(`Managed job: ${jobName ?? '(unnamed)'}, ${sources.length} task${sources.length === 1 ? '' : 's'}; each gets its own cluster, recovered when its infra fails, torn down at the end.`);
      for (const [i, source] of sources.entries()) {
        const plan = await client.plan(source.task).catch((err: unknown) => {
          throw serverIssues(err, source, i, sources.length);
        });
        print(`${sources.length > 1 ? `Task ${i}${source.task.name ? ` (${source.task.name})` : ''}: ` : ''}${plan.table}`);
      }
      if (!(await confirm('Launch the managed job?'))) throw new CliExit(EXIT.error, 'Aborted; nothing was submitted.');
    }
    const tasks = [];
    for (const source of sources) tasks.push(await uploadTaskFiles(client, source.task, note));
    let submitted: ApiRequest;
    try {
      submitted = await client.waitForRequest(await client.submit('jobs.launch', { tasks, ...(jobName ? { name: jobName } : {}) }));
    } catch (err) {
      throw sources.length === 1 ? serverIssues(err, sources[0]!, 0, 1) : err;
    }
    if (submitted.name !== 'jobs.launch' || submitted.status !== 'SUCCEEDED' || !submitted.result) throw new CliExit(finish(submitted));
    const { jobId } = submitted.result;
    if (options.async || options.detachRun) {
      print(String(jobId));
      note(`Managed job ${jobId} submitted. Follow it: skydeck jobs logs ${jobId}`);
      return;
    }
    note(`Managed job ${jobId} submitted; streaming its log (Ctrl+C detaches, the job keeps running).`);
    process.exitCode = await streamJobLog(client, jobId, { follow: true });
  } finally {
    client.close();
  }
}

/** A file (one task or a pipeline) or a command to run. */
function taskSources(entrypoint: string[]): { name?: string; sources: TaskSource[] } {
  if (entrypoint.length === 0) throw new CliExit(EXIT.usage, 'Error: give a task file or a command to run');
  const [first] = entrypoint;
  if (entrypoint.length === 1 && (/\.ya?ml$/i.test(first!) || existsSync(first!))) return loadTaskChain(first!);
  return { sources: [inlineTask(entrypoint.join(' '))] };
}

function flag(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A task the server refuses is reported at its lines, as for launch; a pipeline's issues name their task. */
function serverIssues(err: unknown, source: TaskSource, index: number, count: number): unknown {
  const issues = taskIssues(err);
  if (!issues) return err;
  const own = issues.map((i) => ({ ...i, path: i.path.replace(/^tasks\.\d+\./, '').replace(/^task\./, '') }));
  const error = new TaskValidationError(own, source.file);
  return count > 1 ? new CliExit(EXIT.usage, `Task ${index} of the pipeline:\n${error.message}`) : error;
}

/**
 * Follows the job's log (or its controller's) to its end; returns the exit code its end means: 0 for
 * SUCCEEDED, the task's exit code for a failure of its code, 1 otherwise.
 */
async function streamJobLog(client: ApiClient, jobId: number | undefined, options: { follow: boolean; controller?: boolean; tail?: number }): Promise<number> {
  const requestId = await client.submit('jobs.logs', { ...(jobId !== undefined ? { jobId } : {}), follow: options.follow, controller: options.controller, tail: options.tail });
  const which = jobId ?? '<latest>';
  const done = await followRequest(
    client,
    { id: requestId, name: 'jobs.logs' },
    { detach: { cancelRequest: true, note: [`Managed job ${which} keeps running; nothing was cancelled.`, `  Reattach:  skydeck jobs logs ${which}`, `  Status:    skydeck jobs queue`, `  Cancel:    skydeck jobs cancel ${which}`].join('\n') } },
  );
  if (!options.follow) return EXIT.ok;
  if (!done || done.status !== 'SUCCEEDED') return done ? finish(done) : EXIT.error;
  const result = resultOf(done, 'jobs.logs');
  const id = result?.jobId ?? jobId;
  const job = id === undefined ? undefined : (await client.managedJobs()).find((j) => j.id === id);
  if (!job) return EXIT.ok;
  if (!options.controller) note(`Managed job ${job.id} ${job.status}${job.failureReason ? `: ${job.failureReason}` : ''}.`);
  if (job.status === 'SUCCEEDED') return EXIT.ok;
  return job.tasks[job.currentTask]?.exitCode || EXIT.error;
}

export async function logs(id: string | undefined, options: { follow: boolean; controller?: boolean; tail?: number; name?: string; refresh?: boolean; syncDown?: boolean }): Promise<void> {
  if (id !== undefined && options.name !== undefined) throw new CliExit(EXIT.usage, 'Error: give a job id or -n NAME, not both');
  if (options.refresh) note(REFRESH_NOTE);
  const { client, home } = await connect();
  try {
    const jobId = options.name !== undefined ? await jobNamed(client, options.name) : id === undefined ? undefined : jobNumber(id);
    if (options.syncDown) return await syncDown(client, home, jobId, options.controller === true);
    const code = await streamJobLog(client, jobId, options);
    // A finished job's log read without following is a success; following, the job's end is the exit code.
    process.exitCode = options.follow ? code : EXIT.ok;
  } finally {
    client.close();
  }
}

/** `jobs logs -s`: the job's log (or its controller's) as it is now, in SKYDECK_HOME/logs/managed-jobs/job-N[.controller].log. */
async function syncDown(client: ApiClient, home: string, jobId: number | undefined, controller: boolean): Promise<void> {
  const requestId = await client.submit('jobs.logs', { ...(jobId !== undefined ? { jobId } : {}), follow: false, controller });
  const chunks: string[] = [];
  for await (const chunk of client.streamLog(requestId, { follow: true })) chunks.push(chunk);
  const done = await client.waitForRequest(requestId);
  if (done.name !== 'jobs.logs' || done.status !== 'SUCCEEDED') throw new CliExit(finish(done));
  const id = done.result?.jobId ?? jobId;
  const dir = path.join(home, 'logs', 'managed-jobs');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `job-${id ?? 'latest'}${controller ? '.controller' : ''}.log`);
  writeFileSync(file, chunks.join(''));
  print(`Managed job ${id ?? '(latest)'} ${controller ? 'controller log' : 'log'}: ${file}`);
}

/** `jobs logs -n NAME`: your latest job of that name (everyone's, for an admin, as the server lists them). */
async function jobNamed(client: ApiClient, name: string): Promise<number> {
  const named = (await client.managedJobs()).filter((j) => j.name === name);
  if (named.length === 0) throw new CliExit(EXIT.error, `Error: no managed job named ${name}; \`skydeck jobs queue\` lists them`);
  const unfinished = named.filter((j) => !isManagedJobFinished(j.status));
  if (unfinished.length > 1) throw new CliExit(EXIT.usage, `Error: ${unfinished.length} unfinished managed jobs are named ${name} (${unfinished.map((j) => j.id).join(', ')}); give the job id`);
  return (unfinished[0] ?? named.reduce((latest, j) => (j.id > latest.id ? j : latest))).id;
}

/** SkyPilot's -r restarts a stopped jobs controller; here the controller is the API server, always running. */
const REFRESH_NOTE = '-r/--refresh changes nothing here: the API server itself is the jobs controller, so what it shows is always current.';

/** SkyPilot's default page of the queue. */
const QUEUE_PAGE = 50;

export async function queue(options: { allUsers?: boolean; all?: boolean; limit?: number; skipFinished?: boolean; verbose?: boolean; refresh?: boolean; json?: boolean; output?: string }): Promise<void> {
  const json = jsonOutput(options);
  if (options.all && options.limit !== undefined) throw new CliExit(EXIT.usage, 'Error: give -a (every job) or -l N, not both');
  const limit = options.all ? Number.MAX_SAFE_INTEGER : (options.limit ?? QUEUE_PAGE);
  if (options.refresh) note(REFRESH_NOTE);
  const { client } = await connect();
  try {
    const done = await client.waitForRequest(await client.submit('jobs.queue', { allUsers: options.allUsers, skipFinished: options.skipFinished, limit }));
    if (done.name !== 'jobs.queue' || done.status !== 'SUCCEEDED' || !done.result) throw new CliExit(finish(done));
    const { jobs } = done.result;
    if (json) return printJson(jobs);
    if (jobs.length === 0) return print('No managed jobs.');
    print(queueTable(jobs, Date.now(), options.allUsers === true, options.verbose === true));
    if (!options.all && jobs.length >= limit) note(`Showing the ${limit} most recent; -a shows all${options.limit === undefined ? ', -l N the N most recent' : ''}.`);
  } finally {
    client.close();
  }
}

/**
 * SkyPilot's columns: ID, TASK, NAME, REQUESTED, SUBMITTED, TOT. DURATION, JOB DURATION, #RECOVERIES, STATUS
 * (and USER for everyone's); verbose adds where the current task runs and how it recovers.
 */
export function queueTable(jobs: readonly ManagedJob[], now = Date.now(), withUser = false, verbose = false): string {
  return table(jobs, [
    { header: 'ID', value: (j) => String(j.id) },
    { header: 'TASK', value: (j) => (j.tasks.length > 1 ? `${j.currentTask}/${j.tasks.length}${j.tasks[j.currentTask]?.name ? ` ${j.tasks[j.currentTask]!.name}` : ''}` : '-') },
    { header: 'NAME', value: (j) => j.name ?? '-' },
    ...(withUser ? [{ header: 'USER', value: (j: ManagedJob) => j.owner.name }] : []),
    { header: 'REQUESTED', value: (j) => j.tasks[j.currentTask]?.resources ?? '-' },
    { header: 'SUBMITTED', value: (j) => relativeTime(j.submittedAt, now) },
    { header: 'TOT. DURATION', value: (j) => duration((j.endedAt ?? now) - j.submittedAt) },
    { header: 'JOB DURATION', value: (j) => (j.startedAt === undefined ? '-' : duration(jobDuration(j, now))) },
    { header: '#RECOVERIES', value: (j) => String(recoveryCount(j)) },
    { header: 'STATUS', value: (j) => j.status },
    ...(verbose
      ? [
          { header: 'CLUSTER', value: (j: ManagedJob) => j.tasks[j.currentTask]?.cluster ?? '-' },
          { header: 'INFRA', value: (j: ManagedJob) => j.tasks[j.currentTask]?.infra ?? '-' },
          { header: 'RECOVERY', value: (j: ManagedJob) => recoveryText(j.tasks[j.currentTask]) },
        ]
      : []),
    { header: 'DETAILS', value: (j) => (isManagedJobFinished(j.status) ? (j.failureReason ?? '-') : (j.statusMessage ?? j.tasks[j.currentTask]?.cluster ?? '-')) },
  ]);
}

function recoveryText(task: ManagedJob['tasks'][number] | undefined): string {
  if (!task) return '-';
  const { strategy, maxRestartsOnErrors } = task.recovery;
  return `${strategy}${maxRestartsOnErrors > 0 ? ` (restarts ${task.restartsOnErrors}/${maxRestartsOnErrors})` : ''}`;
}

export async function cancel(ids: string[], options: { name?: string; all?: boolean; allUsers?: boolean; yes?: boolean; pool?: string; graceful?: boolean; gracefulTimeout?: number }): Promise<void> {
  if (options.pool !== undefined) refuseFlag('-p/--pool', 'SkyDeck has no pools of workers; cancel jobs by id, -n NAME or -a');
  if (options.graceful || options.gracefulTimeout !== undefined) note(GRACEFUL_NOTE);
  const given = [ids.length > 0, options.name !== undefined, options.all === true].filter(Boolean).length;
  if (given !== 1) throw new CliExit(EXIT.usage, 'Error: give job ids, -n NAME or -a (one of them)');
  if (options.allUsers && !options.all) throw new CliExit(EXIT.usage, 'Error: -u goes with -a');
  const jobIds = ids.map(jobNumber);
  const { client } = await connect();
  try {
    if (options.all && !options.yes) {
      const mine = (await client.managedJobs({ allUsers: options.allUsers })).filter((j) => !isManagedJobFinished(j.status));
      if (mine.length === 0) return print('No unfinished managed jobs to cancel.');
      if (!(await confirm(`Cancel ${mine.length} managed job(s): ${mine.map((j) => j.id).join(', ')}?`))) throw new CliExit(EXIT.error, 'Aborted; nothing was cancelled.');
    }
    const body = jobIds.length > 0 ? { jobIds } : options.name !== undefined ? { name: options.name } : { all: true, ...(options.allUsers ? { allUsers: true } : {}) };
    let requestId: string;
    try {
      requestId = await client.submit('jobs.cancel', body);
    } catch (err) {
      if (isApiError(err, 'not_found') || isApiError(err, 'forbidden')) throw new CliExit(EXIT.error, `Error: ${(err as Error).message}`);
      throw err;
    }
    process.exitCode = finish((await followRequest(client, { id: requestId, name: 'jobs.cancel' }))!, { logShown: true });
  } finally {
    client.close();
  }
}
