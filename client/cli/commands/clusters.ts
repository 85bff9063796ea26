// Cluster and job commands: status, queue, logs, cancel, stop, start, down, autostop.
import type { OperationBody, OperationName } from '../../../protocol/api';
import { mkdirSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { isManagedJobFinished, type ManagedJob } from '../../../protocol/jobs';
import { clusterEndpoints, isJobFinished, type Cluster, type Job, type RequestSummary } from '../../../protocol/model';
import type { ApiClient } from '../../api-client';
import { isApiError } from '../../errors';
import { duration, relativeTime, shortId, table } from '../../format';
import { checkClusterName, checkWaitFor, GRACEFUL_NOTE, jobNumber } from '../args';
import { connect, whoAmI } from '../context';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { resultOf } from '../../results';
import { CliExit, EXIT, jsonOutput, note, print, printJson } from '../output';
import { confirm } from '../prompt';

export interface StatusOptions {
  refresh?: boolean;
  json?: boolean;
  output?: string;
  allUsers?: boolean;
  verbose?: boolean;
  ip?: boolean;
  endpoints?: boolean;
  endpoint?: number;
  /** false with --no-show-managed-jobs. */
  showManagedJobs?: boolean;
  /** SkyPilot's services and pools: SkyDeck has neither (a note when asked for them explicitly). */
  showServices?: boolean;
  showPools?: boolean;
}

/** `status`, as `sky status`: your clusters (all users' with -u); --ip / --endpoints / --endpoint PORT print just that. */
export async function status(names: string[], options: StatusOptions): Promise<void> {
  names.forEach(checkClusterName);
  const json = jsonOutput(options);
  const single = options.ip || options.endpoints || options.endpoint !== undefined;
  if (single && names.length !== 1) throw new CliExit(EXIT.usage, `Error: ${options.ip ? '--ip' : options.endpoints ? '--endpoints' : '--endpoint'} takes exactly one cluster name`);
  await withClient(async (client) => {
    let clusters: Cluster[];
    if (options.refresh) {
      // A refresh asks every backend for the truth, so it runs as a request on the server.
      const requestId = await client.submit('status', { clusterNames: names.length > 0 ? names : undefined, refresh: true });
      const done = await client.waitForRequest(requestId);
      if (done.status !== 'SUCCEEDED') throw new CliExit(finish(done));
      clusters = resultOf(done, 'status')?.clusters ?? [];
    } else {
      clusters = await client.clusters();
    }
    // Named clusters are shown whoever owns them; otherwise yours, or everyone's with -u.
    if (names.length > 0) clusters = clusters.filter((c) => names.includes(c.name));
    else if (!options.allUsers) {
      const me = await whoAmI(client);
      clusters = clusters.filter((c) => c.owner.id === me.id);
    }
    const missing = names.filter((n) => !clusters.some((c) => c.name === n));
    if (missing.length > 0 && (single || json)) throw new CliExit(EXIT.error, `Error: no cluster named ${missing.join(', ')}`);
    if (single) return printAddress(clusters[0]!, options);
    if (json) return printJson(clusters);
    if (clusters.length > 0) print(clusterTable(clusters, Date.now(), options.verbose, options.allUsers));
    else if (missing.length === 0) print('No existing clusters.');
    if (missing.length > 0) throw new CliExit(EXIT.error, `Error: no cluster named ${missing.join(', ')}`);
    if (options.showManagedJobs !== false && names.length === 0) await printManagedJobsInProgress(client, options.allUsers === true);
    if (options.showServices === true) note('--show-services: SkyDeck runs no services (sky serve); there are none to show.');
    if (options.showPools === true) note('--show-pools: SkyDeck has no pools of workers; there are none to show.');
  });
}

/** As `sky status`: the managed jobs in progress under the clusters (yours; everyone's with -u, which only admins may list). */
async function printManagedJobsInProgress(client: ApiClient, wantAllUsers: boolean): Promise<void> {
  let allUsers = wantAllUsers;
  let jobs: ManagedJob[];
  try {
    jobs = await client.managedJobs({ allUsers });
  } catch (err) {
    // The clusters are shown; a user who may not list everyone's managed jobs sees their own.
    if (!allUsers || !isApiError(err, 'forbidden')) throw err;
    allUsers = false;
    jobs = await client.managedJobs();
  }
  const active = jobs.filter((j) => !isManagedJobFinished(j.status));
  if (active.length === 0) return;
  const byStatus = new Map<string, number>();
  for (const j of active) byStatus.set(j.status, (byStatus.get(j.status) ?? 0) + 1);
  const counts = [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ');
  print(`\nManaged jobs in progress: ${counts}`);
  print(
    table(active.slice(0, MANAGED_JOBS_SHOWN), [
      { header: 'ID', value: (j) => String(j.id) },
      { header: 'NAME', value: (j) => j.name ?? '-' },
      ...(allUsers ? [{ header: 'USER', value: (j: ManagedJob) => j.owner.name }] : []),
      { header: 'STATUS', value: (j) => j.status },
      { header: 'CLUSTER', value: (j) => j.tasks[j.currentTask]?.cluster ?? '-' },
    ]),
  );
  note(`${active.length > MANAGED_JOBS_SHOWN ? `Showing ${MANAGED_JOBS_SHOWN} of ${active.length}. ` : ''}More: skydeck jobs queue${allUsers ? ' -u' : ''}`);
}

/** How many in-progress managed jobs `status` lists, as SkyPilot keeps its summary short. */
const MANAGED_JOBS_SHOWN = 5;


function printAddress(cluster: Cluster, options: StatusOptions): void {
  const head = cluster.nodes.find((n) => n.rank === 0);
  if (cluster.status !== 'UP' || !head) throw new CliExit(EXIT.error, `Error: cluster ${cluster.name} is ${cluster.status}; it has no address now`);
  // On Slurm a cluster has nodes only while one of its jobs holds an allocation.
  if (!head.ip) throw new CliExit(EXIT.error, `Error: cluster ${cluster.name} has no node address now: on ${cluster.infra} its nodes are allocated per job, and none of its jobs runs`);
  if (options.ip) return print(head.ip);
  const endpoints = clusterEndpoints(cluster);
  if (options.endpoint !== undefined) {
    const found = endpoints.find((e) => e.port === options.endpoint);
    if (!found) throw new CliExit(EXIT.error, `Error: port ${options.endpoint} is not exposed on cluster ${cluster.name}${endpoints.length > 0 ? ` (its ports: ${endpoints.map((e) => e.port).join(', ')})` : '; give the task resources.ports'}`);
    return print(found.url);
  }
  if (endpoints.length === 0) throw new CliExit(EXIT.error, `Error: cluster ${cluster.name} exposes no ports; give the task resources.ports`);
  print(endpoints.map((e) => `${e.port}: ${e.url}`).join('\n'));
}

export function clusterTable(clusters: readonly Cluster[], now = Date.now(), verbose = false, allUsers = false): string {
  return table(clusters, [
    { header: 'NAME', value: (c) => c.name },
    ...(allUsers ? [{ header: 'USER', value: (c: Cluster) => c.owner.name }] : []),
    { header: 'INFRA', value: (c) => c.infra },
    { header: 'RESOURCES', value: (c) => resourcesText(c) },
    { header: 'NODES', value: (c) => String(c.numNodes) },
    { header: 'STATUS', value: (c) => c.status },
    { header: 'LAUNCHED', value: (c) => relativeTime(c.launchedAt, now) },
    { header: 'AUTOSTOP', value: (c) => (c.autostop === undefined ? '-' : `${c.autostop}m${c.autostopDown ? ' (down)' : ''}`) },
    ...(verbose
      ? [
          { header: 'HEAD IP', value: (c: Cluster) => c.nodes.find((n) => n.rank === 0)?.ip ?? '-' },
          { header: 'PORTS', value: (c: Cluster) => (c.ports?.length ? c.ports.join(',') : '-') },
          { header: 'LABELS', value: (c: Cluster) => Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '-' },
        ]
      : []),
  ]);
}

function resourcesText(c: Cluster): string {
  const r = c.resources;
  return [r.cpus && `cpus=${r.cpus}`, r.memory && `mem=${r.memory}`, r.accelerators].filter(Boolean).join(' ') || '-';
}

/** `queue`, as `sky queue`: jobs on the named clusters (all of yours when none is named); yours unless -u; -s skips finished. */
export async function queue(names: string[], options: { json?: boolean; output?: string; allUsers?: boolean; skipFinished?: boolean }): Promise<void> {
  names.forEach(checkClusterName);
  const json = jsonOutput(options);
  await withClient(async (client) => {
    const me = options.allUsers ? undefined : await whoAmI(client);
    const clusterNames = names.length > 0 ? names : (await client.clusters()).filter((c) => !me || c.owner.id === me.id).map((c) => c.name);
    const result: { cluster: string; jobs: Job[] }[] = [];
    for (const cluster of clusterNames) {
      const jobs = (await client.jobs(cluster)).filter((j) => (!me || j.owner.id === me.id) && (!options.skipFinished || !isJobFinished(j.status)));
      result.push({ cluster, jobs });
    }
    if (json) return printJson(names.length === 1 ? result[0]!.jobs : result.flatMap((r) => r.jobs));
    if (result.length === 0) return print('No clusters.');
    print(result.map((r) => (result.length > 1 ? `Cluster ${r.cluster}:\n` : '') + (r.jobs.length > 0 ? jobTable(r.jobs) : `No jobs on cluster ${r.cluster}.`)).join('\n\n'));
  });
}

export function jobTable(jobs: readonly Job[], now = Date.now()): string {
  return table(jobs, [
    { header: 'ID', value: (j) => String(j.jobId) },
    { header: 'NAME', value: (j) => j.name ?? '-' },
    { header: 'USER', value: (j) => j.owner.name },
    { header: 'SUBMITTED', value: (j) => relativeTime(j.submittedAt, now) },
    { header: 'DURATION', value: (j) => (j.startedAt === undefined ? '-' : duration((j.endedAt ?? now) - j.startedAt)) },
    { header: 'STATUS', value: (j) => j.status },
    { header: 'EXIT', value: (j) => (j.exitCode === undefined ? '-' : String(j.exitCode)) },
  ]);
}

/** SkyPilot's `logs --status` exit codes. */
export const JOB_EXIT = { succeeded: 0, failed: 100, notFinished: 101, notFound: 102, cancelled: 103 } as const;

export async function logs(
  cluster: string,
  jobs: string[],
  options: { follow: boolean; tail?: number; status?: boolean; syncDown?: boolean; provision?: boolean; worker?: number; autostop?: boolean },
): Promise<void> {
  checkClusterName(cluster);
  if (options.autostop) throw new CliExit(EXIT.usage, `Error: --autostop: SkyDeck runs no autostop hook on the nodes; the server's own stop or down of an idle cluster is a request: skydeck api status -a -c ${cluster}`);
  if (options.worker !== undefined) throw new CliExit(EXIT.usage, "Error: -w/--worker: SkyDeck provisions a cluster's nodes in one log, not one per worker; --provision shows it whole, naming each node");
  if (options.provision) {
    if (jobs.length > 0 || options.status || options.syncDown) throw new CliExit(EXIT.usage, 'Error: --provision takes no job ids, --status or --sync-down');
    return provisionLog(cluster, options);
  }
  const jobIds = jobs.map(jobNumber);
  if (options.status && options.syncDown) throw new CliExit(EXIT.usage, 'Error: give --status or --sync-down, not both');
  if (jobIds.length > 1 && !options.syncDown) throw new CliExit(EXIT.usage, `Error: cannot stream the logs of several jobs (${jobIds.join(', ')}); add --sync-down to download them`);
  if (options.status) return jobStatus(cluster, jobIds[0]);
  if (options.syncDown) return syncDown(cluster, jobIds);
  await submitAndFollow('job_logs', { clusterName: cluster, jobId: jobIds[0], follow: options.follow, tail: options.tail });
}

/**
 * `logs --provision`: the cluster's provisioning, which here is the start of the launch request that made
 * it, up to the line that says it is UP (a launch still provisioning is followed there, unless --no-follow).
 */
async function provisionLog(cluster: string, options: { follow: boolean; tail?: number }): Promise<void> {
  await withClient(async (client) => {
    const record = (await client.clusters()).find((c) => c.name === cluster);
    if (!record) throw new CliExit(EXIT.error, `Error: no cluster named ${cluster}`);
    // The launch that made this cluster: the last one on it submitted before the cluster was recorded.
    const launches = (await client.listRequests({ all: true, cluster, limit: 1000 })).filter((r) => r.name === 'launch' && r.createdAt <= record.launchedAt);
    const made = launches.reduce<RequestSummary | undefined>((latest, r) => (!latest || r.createdAt > latest.createdAt ? r : latest), undefined);
    if (!made) throw new CliExit(EXIT.error, `Error: the server no longer has the launch that provisioned ${cluster} (its requests are kept for a while, then pruned)`);
    note(`Provisioning of ${cluster}: from launch request ${shortId(made.id)} (skydeck api logs ${shortId(made.id)} has the rest).`);
    const up = new RegExp(`^Cluster ${cluster} is UP \\(`);
    const lines: string[] = [];
    let partial = '';
    for await (const chunk of client.streamLog(made.id, { follow: options.follow })) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      const end = parts.findIndex((l) => up.test(l));
      lines.push(...(end >= 0 ? parts.slice(0, end + 1) : parts));
      if (end >= 0) {
        partial = '';
        break;
      }
    }
    if (partial) lines.push(partial);
    print((options.tail !== undefined ? lines.slice(-options.tail) : lines).join('\n'));
  });
}

/** Prints `Job N: STATUS` and exits 0 (succeeded), 100 (failed), 101 (not finished), 102 (not found) or 103 (cancelled). */
async function jobStatus(cluster: string, jobId: number | undefined): Promise<void> {
  await withClient(async (client) => {
    const jobs = await client.jobs(cluster);
    const job = jobId === undefined ? jobs.reduce<Job | undefined>((latest, j) => (!latest || j.jobId > latest.jobId ? j : latest), undefined) : jobs.find((j) => j.jobId === jobId);
    if (!job) throw new CliExit(JOB_EXIT.notFound, jobId === undefined ? `No job found on cluster ${cluster}.` : `Job ${jobId} not found on cluster ${cluster}.`);
    print(`Job ${job.jobId}: ${job.status}`);
    process.exitCode =
      job.status === 'SUCCEEDED' ? JOB_EXIT.succeeded : job.status === 'FAILED' ? JOB_EXIT.failed : job.status === 'CANCELLED' ? JOB_EXIT.cancelled : JOB_EXIT.notFinished;
  });
}

/** Downloads job logs (the latest job, or the ones named) to SKYDECK_HOME/logs/CLUSTER/job-N.log, as `sky logs --sync-down` does. */
async function syncDown(cluster: string, jobIds: number[]): Promise<void> {
  const { client, home } = await connect();
  try {
    const jobs = await client.jobs(cluster);
    const wanted = jobIds.length > 0 ? jobIds : jobs.length > 0 ? [Math.max(...jobs.map((j) => j.jobId))] : [];
    if (wanted.length === 0) throw new CliExit(JOB_EXIT.notFound, `No job found on cluster ${cluster}.`);
    const dir = path.join(home, 'logs', cluster);
    mkdirSync(dir, { recursive: true });
    for (const jobId of wanted) {
      if (!jobs.some((j) => j.jobId === jobId)) throw new CliExit(JOB_EXIT.notFound, `Job ${jobId} not found on cluster ${cluster}.`);
      const id = await client.submit('job_logs', { clusterName: cluster, jobId, follow: false });
      const file = path.join(dir, `job-${jobId}.log`);
      const out = createWriteStream(file);
      for await (const chunk of client.streamLog(id, { follow: true })) if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      const done = await client.waitForRequest(id);
      if (done.status !== 'SUCCEEDED') throw new CliExit(finish(done), `Error: the log of job ${jobId} could not be read: ${done.error?.message ?? done.status}`);
      print(`Job ${jobId} logs: ${file}`);
    }
  } finally {
    client.close();
  }
}

/**
 * `cancel CLUSTER JOB... | -a | -u`, as `sky cancel`: -a is your unfinished jobs there, -u everyone's
 * (with or without -a). Those two ask first, naming the jobs; -y skips the question.
 */
export async function cancelJobs(cluster: string, jobs: string[], options: { all?: boolean; allUsers?: boolean; yes?: boolean; async?: boolean }): Promise<void> {
  checkClusterName(cluster);
  const all = options.all === true || options.allUsers === true;
  if (jobs.length === 0 && !all) throw new CliExit(EXIT.usage, "Error: name the jobs to cancel, or pass -a for all of yours (-u for everyone's)");
  if (jobs.length > 0 && all) throw new CliExit(EXIT.usage, 'Error: give job ids or -a/-u, not both');
  const jobIds = jobs.map(jobNumber);
  await withClient(async (client) => {
    if (all && !options.yes) {
      const me = options.allUsers ? undefined : await whoAmI(client);
      const doomed = (await client.jobs(cluster)).filter((j) => !isJobFinished(j.status) && (!me || j.owner.id === me.id));
      if (doomed.length === 0) return print(`No unfinished ${me ? 'jobs of yours' : 'jobs'} on cluster ${cluster}.`);
      const list = doomed.map((j) => `${j.jobId}${options.allUsers ? ` (${j.owner.name})` : ''}`).join(', ');
      if (!(await confirm(`Cancelling ${options.allUsers ? "all users'" : 'all your'} jobs on cluster ${cluster}: ${list}. Proceed?`))) throw new CliExit(EXIT.error, 'Aborted; nothing was cancelled.');
    }
    process.exitCode = await follow(client, 'cancel_jobs', all ? { clusterName: cluster, all: true, ...(options.allUsers ? { allUsers: true } : {}) } : { clusterName: cluster, jobIds }, options.async);
  });
}

/** The clusters -a (yours) or -u (everyone's) mean; `which` keeps the ones the operation applies to. */
async function clustersOf(client: ApiClient, options: { all?: boolean; allUsers?: boolean }, which: (c: Cluster) => boolean): Promise<string[]> {
  const me = options.allUsers ? undefined : await whoAmI(client);
  return (await client.clusters()).filter((c) => (!me || c.owner.id === me.id) && which(c)).map((c) => c.name);
}

/** Names, or -a/-u: one of them. */
function checkTargets(names: string[], options: { all?: boolean; allUsers?: boolean }, operation: string): void {
  names.forEach(checkClusterName);
  const bulk = options.all === true || options.allUsers === true;
  if (bulk && names.length > 0) throw new CliExit(EXIT.usage, `Error: give cluster names or -a/-u, not both`);
  if (!bulk && names.length === 0) throw new CliExit(EXIT.usage, `Error: name the clusters to ${operation}, or pass -a for all of yours${operation === 'start' ? '' : " (-u for everyone's)"}`);
}

const LIFECYCLE = {
  stop: { verb: 'Stopping', confirmFirst: true, applies: (c: Cluster) => c.status === 'UP' },
  // start asks only for -a: naming the clusters is the confirmation.
  start: { verb: 'Starting', confirmFirst: false, applies: (c: Cluster) => c.status !== 'UP' },
  down: { verb: 'Tearing down', confirmFirst: true, applies: () => true },
} as const;

/**
 * stop, start and down, one cluster after the other (with -a, all of yours; -u, everyone's, as the server
 * allows); stop and down ask first, naming the requests they will cancel, and start -a asks too.
 */
export async function lifecycle(operation: keyof typeof LIFECYCLE, names: string[], options: LifecycleOptions): Promise<void> {
  checkTargets(names, options, operation);
  if (options.down && options.idleMinutesToAutostop === undefined) throw new CliExit(EXIT.usage, 'Error: start --down needs -i/--idle-minutes-to-autostop (as in SkyPilot)');
  if (options.retryUntilUp) note('-r/--retry-until-up changes nothing for start: a stopped cluster restarts on the nodes it holds; there is no capacity to wait for.');
  if (options.force) note('-f/--force changes nothing here: an UP cluster is left as it is (SkyDeck installs no runtime on the nodes to refresh).');
  if (options.graceful || options.gracefulTimeout !== undefined) note(GRACEFUL_NOTE);
  checkWaitFor(options.waitFor);
  if (options.async && options.idleMinutesToAutostop !== undefined) throw new CliExit(EXIT.usage, 'Error: start -i sets the autostop once the start is done; drop --async (or run skydeck autostop after it)');
  const words = LIFECYCLE[operation];
  const bulk = options.all === true || options.allUsers === true;
  const context = await connect();
  try {
    let clusters = names;
    if (bulk) {
      clusters = await clustersOf(context.client, options, words.applies);
      if (clusters.length === 0) return print(`No clusters${options.allUsers ? '' : ' of yours'} to ${operation}.`);
    }
    if ((words.confirmFirst || bulk) && !options.yes) {
      const ongoing = (await context.client.listRequests()).filter((r) => r.clusterName !== undefined && clusters.includes(r.clusterName));
      print(`${words.verb} cluster${clusters.length === 1 ? '' : 's'}: ${clusters.join(', ')}.`);
      if (ongoing.length > 0) print(`This first cancels ${ongoing.length} ongoing request${ongoing.length === 1 ? '' : 's'} on ${clusters.length === 1 ? 'it' : 'them'}: ${ongoing.map(describe).join(', ')}.`);
      if (!(await confirm('Proceed?'))) throw new CliExit(EXIT.error, 'Aborted; nothing was changed.');
    }
    for (const clusterName of clusters) {
      let code = await follow(context.client, operation, { clusterName, ...(operation === 'down' && options.purge ? { purge: true } : {}) }, options.async);
      // `start -i N [--down]` is start, then `autostop -i N [--down]`, as SkyPilot describes it.
      if (code === EXIT.ok && operation === 'start' && options.idleMinutesToAutostop !== undefined) {
        code = await follow(context.client, 'autostop', { clusterName, idleMinutes: options.idleMinutesToAutostop, down: options.down === true });
      }
      if (code !== EXIT.ok) {
        process.exitCode = code;
        return;
      }
    }
  } finally {
    context.client.close();
  }
}

export interface LifecycleOptions {
  yes?: boolean;
  all?: boolean;
  allUsers?: boolean;
  /** down: forget the cluster even when its teardown fails. */
  purge?: boolean;
  /** start: then set autostop (autodown with down). */
  idleMinutesToAutostop?: number;
  down?: boolean;
  /** start: accepted with a note (nothing to retry or reinstall here). */
  retryUntilUp?: boolean;
  force?: boolean;
  /** Submit, print the request id and return (SkyPilot's --async). */
  async?: boolean;
  /** start: SkyPilot's idleness criterion (only `jobs` is what SkyDeck does). */
  waitFor?: string;
  /** stop, down: accepted with a note (no cached uploads to wait for). */
  graceful?: boolean;
  gracefulTimeout?: number;
}

/** `autostop CLUSTER... -i N [--down] | --cancel` (or -a for all of yours, -u for everyone's, which ask first), as `sky autostop`. */
export async function autostop(
  names: string[],
  options: { idleMinutes?: number; down?: boolean; cancel?: boolean; all?: boolean; allUsers?: boolean; yes?: boolean; waitFor?: string; async?: boolean },
): Promise<void> {
  if (options.cancel && (options.idleMinutes !== undefined || options.down)) throw new CliExit(EXIT.usage, 'Error: --cancel takes no -i or --down');
  checkWaitFor(options.waitFor);
  checkTargets(names, options, 'set autostop on');
  await withClient(async (client) => {
    let clusters = names;
    if (options.all || options.allUsers) {
      clusters = await clustersOf(client, options, (c) => c.status === 'UP');
      if (clusters.length === 0) return print(`No UP clusters${options.allUsers ? '' : ' of yours'}.`);
      const what = options.cancel ? 'Cancelling autostop on' : `Scheduling auto${options.down ? 'down' : 'stop'} on`;
      if (!options.yes && !(await confirm(`${what} ${clusters.length} cluster${clusters.length === 1 ? '' : 's'}: ${clusters.join(', ')}. Proceed?`))) {
        throw new CliExit(EXIT.error, 'Aborted; nothing was changed.');
      }
    }
    for (const clusterName of clusters) {
      const code = await follow(client, 'autostop', { clusterName, ...(options.cancel ? { cancel: true } : { idleMinutes: options.idleMinutes, down: options.down }) }, options.async);
      if (code !== EXIT.ok) {
        process.exitCode = code;
        return;
      }
    }
  });
}

function describe(r: RequestSummary): string {
  return `${shortId(r.id)} (${r.name}, ${r.status})`;
}

// The request log says what happened (the server writes it); the CLI adds only the exit code.
async function submitAndFollow<N extends OperationName>(operation: N, body: OperationBody<N>): Promise<void> {
  await withClient(async (client) => {
    process.exitCode = await follow(client, operation, body);
  });
}

/** Submits and follows the request to its end; with `async` (SkyPilot's --async), prints its id and returns at once. */
async function follow<N extends OperationName>(client: ApiClient, operation: N, body: OperationBody<N>, async = false): Promise<number> {
  const id = await client.submit(operation, body);
  if (async) {
    print(id);
    note(`Submitted ${operation} request ${shortId(id)}. Follow it: skydeck api logs ${shortId(id)}`);
    return EXIT.ok;
  }
  return finish((await followRequest(client, { id, name: operation }))!, { logShown: true });
}

async function withClient(action: (client: ApiClient) => Promise<void>): Promise<void> {
  const { client } = await connect();
  try {
    await action(client);
  } finally {
    client.close();
  }
}

