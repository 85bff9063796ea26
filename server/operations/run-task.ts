// launch and exec: put a task's job on a cluster (provisioning it first for launch) and follow the
// job's output into the request log until it ends, unless the caller detaches.
import { statSync } from 'node:fs';
import type { LaunchResult, OperationBody } from '../../protocol/api';
import { copiedMounts, fillEnvs, isLocalSource, pathMounts, storageMounts, TaskValidationError, type Task, type TaskIssue } from '../../protocol/task';
import type { Principal } from '../auth/identity';
import { requireOwner } from '../auth/policy';
import { fail, jobFailed, SkyDeckError } from '../errors';
import type { SupervisedJob } from '../clusters/cluster-service';
import type { ClusterRecord, JobOutcome, JobSpec } from '../infra/backend';
import { imageMismatch, registryLogin } from '../infra/container/image';
import { askFromTask, choosePlacement, formatConsidered, planFromTask } from '../infra/optimizer';
import { storageCopy } from '../../protocol/task-storage';
import { parseUploadRef, UPLOAD_SCHEME } from '../../protocol/upload';
import { stopStartOf } from './cluster-lifecycle';
import { cloneWorkdir, gitUrlProblem, isMachineRepository } from './git-workdir';
import { copyJobLog } from './job-log-copy';
import { otherClusters, reusableCluster } from './plan';
import { lockCluster, throwIfCancelled, type Operation, type OperationContext, type Services } from './context';

/**
 * What can be told before anything is created: required envs have values, the infra is enabled, the
 * task's files are the caller's to name.
 */
export function checkTask(task: Task, services: Services, caller: Principal): void {
  fillEnvs(task);
  const unhonoured = notYetHonoured(task, caller);
  if (unhonoured.length > 0) throw new TaskValidationError(unhonoured);
  for (const [key, ref] of localPaths(task)) {
    try {
      mayName(ref, services, caller);
      services.uploads.resolve(ref);
    } catch (err) {
      throw new TaskValidationError([{ path: key, message: (err as Error).message }]);
    }
  }
  try {
    services.backends.eligible(task.resources?.infra);
  } catch (err) {
    throw new TaskValidationError([{ path: 'resources.infra', message: (err as Error).message }]);
  }
}

/**
 * Forms the schema accepts (so SkyPilot's files parse) that no infra here can act on: refused at their
 * key rather than dropped, since the job would otherwise run without its code or data.
 */
function notYetHonoured(task: Task, caller: Principal): TaskIssue[] {
  const issues: TaskIssue[] = [];
  if (task.workdir !== undefined && typeof task.workdir !== 'string') {
    const { url } = task.workdir;
    const problem = gitUrlProblem(url);
    if (problem) issues.push({ path: 'workdir.url', message: problem });
    else if (isMachineRepository(url) && !caller.localOwner) {
      issues.push({ path: 'workdir.url', message: `${url.slice(0, 100)} is a repository on the server's machine, which a team server does not let tasks read; give a URL the server can clone (https://, ssh://) or a folder workdir` });
    }
  }
  // Uploads (`upload://`) are the client's own files sent with the task, not storage elsewhere.
  const elsewhere = (source: string) => !isLocalSource(source) && !source.startsWith(UPLOAD_SCHEME);
  const cloud = (source: string) => `cloud storage (${source}) is not reachable from SkyDeck's infra`;
  for (const [remote, source] of Object.entries(pathMounts(task.file_mounts))) {
    if (elsewhere(source)) issues.push({ path: `file_mounts.${remote}`, message: cloud(source) });
  }
  for (const [remote, mount] of Object.entries(storageMounts(task.file_mounts))) {
    const copy = storageCopy(remote, mount);
    if (copy && 'problem' in copy) issues.push({ path: `file_mounts.${remote}.source`, message: copy.problem });
    if (copy) continue;
    const sources = [mount.source ?? []].flat();
    const remoteSource = sources.find(elsewhere);
    const message = remoteSource
      ? cloud(remoteSource)
      : sources.length === 0
        ? `a storage mapping without a local source names a bucket${mount.name ? ` (${mount.name})` : ''}, and cloud storage is not reachable from SkyDeck's infra`
        : `mode ${mount.mode ?? 'MOUNT'} mounts a bucket, which SkyDeck's infra has none of; mode: COPY copies the local source${sources.length > 1 ? 's' : ''} to the nodes`;
    issues.push({ path: `file_mounts.${remote}`, message });
  }
  return issues;
}

/**
 * Only the server's own OS user (the local token) names this machine's paths; on a team server a task
 * names uploads, and only ones its caller sent (an admin: anyone's). Otherwise any user could mount
 * the server's data dir, or reuse an upload id seen in someone else's request.
 */
function mayName(ref: string, services: Services, caller: Principal): void {
  const upload = parseUploadRef(ref);
  if (!upload) {
    if (caller.localOwner || ref.startsWith(UPLOAD_SCHEME)) return;
    throw new Error(`${ref.slice(0, 100)} is a path on the server's machine, which a team server does not let tasks read; send the files with the task (the skydeck CLI and the VS Code extension upload workdir and file_mounts)`);
  }
  if (caller.role === 'admin' || services.uploadOwners.owns(upload.uploadId, caller.user.id)) return;
  throw new Error(`upload ${upload.uploadId.slice(0, 8)} was sent by someone else; send your own files with the task`);
}

/** Running work on a cluster is changing it: only its owner or an admin may. */
function requireClusterUse(clusterName: string, services: Services, caller: Principal): void {
  const cluster = services.clusters.get(clusterName);
  if (cluster) requireOwner(caller, cluster.owner, 'run tasks on', `cluster ${clusterName}`);
}

export const launch: Operation<'launch'> = {
  preflight(body, services, caller) {
    requireClusterUse(body.clusterName, services, caller);
    checkTask(body.task, services, caller);
  },
  run: (ctx) => runTask(ctx, () => ensureCluster(ctx)),
};

export const exec: Operation<'exec'> = {
  preflight(body, services, caller) {
    services.clusters.require(body.clusterName);
    requireClusterUse(body.clusterName, services, caller);
    checkTask(body.task, services, caller);
  },
  run: (ctx) => runTask(ctx, async () => usableCluster(ctx.services.clusters.require(ctx.body.clusterName), ctx.body.task)),
};

/** Runs the task's job on the cluster `cluster()` gives (launch provisions or reuses it, exec needs it UP). */
async function runTask(ctx: OperationContext<'launch' | 'exec'>, cluster: () => Promise<ClusterRecord>): Promise<LaunchResult> {
  if (ctx.resumed) return resumeFollowing(ctx);
  const { task, clusterName } = ctx.body;
  const { clusters } = ctx.services;
  const release = await lockCluster(ctx, clusterName);
  let job: SupervisedJob;
  try {
    // Checked at submit too, but the cluster may have been created by someone else since (a launch
    // queued behind theirs): only under the lock is the answer still true when the job starts.
    requireClusterUse(clusterName, ctx.services, ctx.caller);
    // Cloned first: a repository that cannot be cloned leaves nothing created.
    const clone = typeof task.workdir === 'object' ? await cloneGitWorkdir(ctx, task.workdir) : undefined;
    try {
      const before = clusters.get(clusterName);
      const wasUp = before?.status === 'UP';
      const target = await cluster();
      throwIfCancelled(ctx.signal);
      const launch: Partial<OperationBody<'launch'>> = ctx.body; // exec has none of launch's own keys
      // --no-setup, and --fast on a cluster that was already UP, run the job without the task's setup.
      const skipSetup = launch.noSetup === true || (launch.fast === true && wasUp);
      if (skipSetup && task.setup) ctx.log.line(launch.noSetup ? 'Skipping setup (--no-setup).' : 'Skipping setup (--fast on a cluster that is UP).');
      const spec = { ...jobSpec(task, ctx.services), ...(clone ? { workdir: clone.dir } : {}), ...(skipSetup ? { setup: undefined } : {}) };
      try {
        job = await clusters.startJob(target, spec, ctx.user, ctx.request.id);
      } catch (err) {
        // A cluster this launch made, whose first job the infra refused before starting anything (its
        // ports taken by a launch at the same moment), is not kept: as a refusal at placement leaves none.
        if (!before && err instanceof SkyDeckError && err.code === 'resources_unavailable') await discardCluster(ctx, target);
        throw err;
      }
    } finally {
      // Every backend has its copy once the job has started.
      await clone?.remove();
    }
  } finally {
    release();
  }
  const jobId = job.record.jobId;
  ctx.log.line(`Job ${jobId} submitted to ${clusterName}.`);
  if (ctx.body.detachRun) {
    ctx.log.line(`Running detached. Follow it with: skydeck logs ${clusterName} ${jobId}`);
    return { clusterName, jobId, jobStatus: job.record.status };
  }
  // From here the request log is the job log, copied as it grows, until the copy records its end.
  await ctx.checkpoint({ result: { clusterName, jobId, jobStatus: job.record.status }, logHeaderBytes: ctx.log.size });
  await copyUntilJobEnds(ctx, job, 0);
  return afterCopy(ctx, job, false);
}

async function cloneGitWorkdir(ctx: OperationContext<'launch' | 'exec'>, workdir: { url: string; ref?: string }) {
  ctx.log.line(`Cloning workdir ${workdir.url}${workdir.ref ? ` @ ${workdir.ref}` : ''}...`);
  const clone = await cloneWorkdir(workdir, ctx.signal);
  ctx.log.line(`Checked out ${clone.commit.slice(0, 12)}.`);
  return clone;
}

/** --down without idle minutes: once the followed job has ended, this request tears the cluster down itself. */
async function downAfterJob(ctx: OperationContext<'launch' | 'exec'>): Promise<void> {
  const launch: Partial<OperationBody<'launch'>> = ctx.body; // exec has none of launch's own keys
  if (launch.down !== true || launch.idleMinutesToAutostop !== undefined || launch.detachRun) return;
  const { clusters } = ctx.services;
  const release = await lockCluster(ctx, ctx.body.clusterName);
  try {
    const cluster = clusters.get(ctx.body.clusterName);
    if (!cluster || clusters.activeJobs(cluster.name).length > 0) return;
    ctx.log.line(`Tearing down ${cluster.name} (--down)...`);
    await clusters.backendFor(cluster.infra).teardown(cluster, ctx.log);
    await clusters.remove(cluster.name);
    ctx.log.line(`Cluster ${cluster.name} is gone.`);
  } finally {
    release();
  }
}

function usableCluster(cluster: ClusterRecord, task: Task): ClusterRecord {
  if (cluster.status === 'INIT') {
    // Provisioning never finished (interrupted by a restart, or still running): as the cluster's own message says.
    throw fail.cluster_not_up(`cluster ${cluster.name} is INIT: its provisioning did not finish; launch again to finish it (skydeck launch -c ${cluster.name})`);
  }
  if (cluster.status !== 'UP') throw fail.cluster_not_up(`cluster ${cluster.name} is ${cluster.status}; start it first (skydeck start ${cluster.name})`);
  checkNodeCount(cluster, task);
  return cluster;
}

function checkNodeCount(cluster: ClusterRecord, task: Task): void {
  if ((task.num_nodes ?? 1) > cluster.numNodes) {
    throw fail.cluster_mismatch(`cluster ${cluster.name} has ${cluster.numNodes} node(s); the task asks for ${task.num_nodes}`);
  }
  const otherImage = imageMismatch(cluster, askFromTask(task).imageId);
  if (otherImage) throw fail.cluster_mismatch(otherImage);
}

/** The cluster the launch runs on: reused when it exists, else placed by the optimizer and provisioned. */
async function ensureCluster(ctx: OperationContext<'launch'>): Promise<ClusterRecord> {
  const { task, clusterName } = ctx.body;
  const { clusters, backends } = ctx.services;
  const existing = reusableCluster(clusters, clusterName);
  if (existing) return reuse(ctx, existing);

  ctx.log.line(`Choosing infra for ${clusterName}...`);
  const choice = await untilPlaced(ctx, () => choosePlacement(backends, planFromTask(task), otherClusters(clusters, clusterName)));
  ctx.log.line(formatConsidered(choice));
  const ports = choice.plan.candidates[choice.chosen.candidate]!.ports;
  let record: ClusterRecord = {
    name: clusterName,
    infra: choice.chosen.infra,
    // What the task asked for; the backend's provisioning answers with what the nodes really have.
    resources: {
      infra: choice.chosen.infra,
      cpus: task.resources?.cpus,
      memory: task.resources?.memory,
      accelerators: task.resources?.accelerators,
      imageId: choice.plan.candidates[choice.chosen.candidate]!.imageId,
    },
    numNodes: choice.chosen.numNodes,
    status: 'INIT',
    owner: ctx.user,
    launchedAt: Date.now(),
    // --down is SkyPilot's autodown: an autostop that tears down, after the idle minutes given (else at once).
    autostop: ctx.body.down ? (ctx.body.idleMinutesToAutostop ?? 0) : ctx.body.idleMinutesToAutostop,
    ...(ctx.body.down ? { autostopDown: true } : {}),
    // Recorded now, so that a launch placed while this one provisions sees them taken.
    ...(ports ? { ports } : {}),
    nodes: [],
  };
  await clusters.save(record);
  const backend = clusters.backendFor(record.infra);
  ctx.log.line(`Provisioning ${clusterName} on ${record.infra}...`);
  try {
    const { envs, secrets } = fillEnvs(task);
    const provisioned = await backend.provision(record, choice.chosen, ctx.log, ctx.signal, { registryLogin: registryLogin({ ...envs, ...secrets }) });
    record = { ...record, ...provisioned, status: 'UP', statusMessage: undefined };
    await clusters.save(record);
  } catch (err) {
    // Nothing of a cluster that never came up is kept.
    await discardCluster(ctx, record);
    throw err;
  }
  ctx.log.line(`Cluster ${clusterName} is UP (${record.nodes.length} node${record.nodes.length === 1 ? '' : 's'}).`);
  return record;
}

/** Tears down and forgets a cluster that a launch made and could not use. */
async function discardCluster(ctx: OperationContext<'launch' | 'exec'>, cluster: ClusterRecord): Promise<void> {
  await ctx.services.clusters.backendFor(cluster.infra).teardown(cluster, ctx.log).catch(() => undefined);
  await ctx.services.clusters.remove(cluster.name);
}

/** How long --retry-until-up waits between placement attempts. */
const RETRY_MS = Number(process.env.SKYDECK_RETRY_UNTIL_UP_MS ?? 5000);

/** Places the task; with --retry-until-up, a lack of capacity is waited out (saying why) until it fits or the request is cancelled. */
async function untilPlaced<T>(ctx: OperationContext<'launch'>, place: () => Promise<T>): Promise<T> {
  let last: string | undefined;
  for (;;) {
    try {
      const placed = await place();
      if (last !== undefined) ctx.setStatusMessage(undefined);
      return placed;
    } catch (err) {
      if (!ctx.body.retryUntilUp || !(err instanceof SkyDeckError) || err.code !== 'resources_unavailable') throw err;
      if (err.message !== last) ctx.log.line(`${err.message}\nWaiting for capacity (--retry-until-up); retrying every ${RETRY_MS / 1000} s.`);
      last = err.message;
      ctx.setStatusMessage(`PENDING: waiting for capacity: ${err.message.split('\n').slice(1).join('; ').trim() || err.message}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      throwIfCancelled(ctx.signal);
    }
  }
}

async function reuse(ctx: OperationContext<'launch'>, cluster: ClusterRecord): Promise<ClusterRecord> {
  const { task } = ctx.body;
  const wanted = task.resources?.infra;
  if (wanted !== undefined && cluster.infra !== wanted && !cluster.infra.startsWith(`${wanted}/`)) {
    throw fail.cluster_mismatch(`cluster ${cluster.name} runs on ${cluster.infra}; the task asks for infra ${wanted}. Use another cluster name or down it first.`);
  }
  checkNodeCount(cluster, task);
  // Ports the task adds are opened on the reused cluster too, as `sky launch` does.
  const added = (askFromTask(task).ports ?? []).filter((p) => !cluster.ports?.includes(p));
  if (added.length > 0) {
    cluster = { ...cluster, ports: [...(cluster.ports ?? []), ...added].sort((a, b) => a - b) };
    await ctx.services.clusters.save(cluster);
  }
  // -i and --down apply to a reused cluster too, as in `sky launch`.
  const { idleMinutesToAutostop: idle, down } = ctx.body;
  if (idle !== undefined || down) {
    cluster = { ...cluster, autostop: down ? (idle ?? 0) : idle, autostopDown: down === true };
    await ctx.services.clusters.save(cluster);
  }
  if (cluster.status === 'STOPPED') {
    ctx.log.line(`Starting stopped cluster ${cluster.name}...`);
    await stopStartOf(ctx.services, cluster.name).start(cluster, ctx.log);
    cluster = { ...cluster, status: 'UP' };
    await ctx.services.clusters.save(cluster);
  }
  ctx.log.line(`Reusing cluster ${cluster.name} (${cluster.infra}).`);
  return cluster;
}

/** The task's paths on the client's side: `[key path, path or upload:// reference]`. */
function localPaths(task: Task): [string, string][] {
  return [...(typeof task.workdir === 'string' ? [['workdir', task.workdir] as [string, string]] : []), ...Object.entries(copiedMounts(task.file_mounts)).map(([remote, local]): [string, string] => [`file_mounts.${remote}`, local])];
}

/** A path the backend can copy from: uploads resolved to where the server unpacked them. */
function serverPath(ref: string, services: Pick<Services, 'uploads'>): string {
  services.uploads.touch(ref);
  return services.uploads.resolve(ref);
}

export function jobSpec(task: Task, services: Pick<Services, 'uploads'>): Omit<JobSpec, 'jobId' | 'taskId'> {
  const filled = fillEnvs(task);
  const envs = Object.fromEntries(Object.entries({ ...filled.envs, ...filled.secrets }).map(([k, v]) => [k, v ?? '']));
  const accelerators = task.resources?.accelerators;
  return {
    name: task.name,
    numNodes: task.num_nodes ?? 1,
    setup: task.setup,
    run: task.run,
    envs,
    workdir: typeof task.workdir === 'string' ? serverPath(task.workdir, services) : undefined,
    fileMounts: task.file_mounts && Object.fromEntries(Object.entries(copiedMounts(task.file_mounts)).map(([remote, local]) => [remote, serverPath(local, services)])),
    gpusPerNode: accelerators ? Number(accelerators.split(':')[1] ?? 1) : 0,
  };
}

/**
 * Copies the job's log from byte `from` into the request log until the job ends (or the request is
 * cancelled), then records where the copy ended before anything else is written: past that point the
 * request log holds the request's own lines, which a restarted server must not take for the job's.
 */
async function copyUntilJobEnds(ctx: OperationContext<'launch' | 'exec'>, job: SupervisedJob, from: number): Promise<void> {
  const start = ctx.log.size;
  try {
    // A job waiting in its infra's queue (Slurm) says why on the request too.
    await copyJobLog(ctx, job.record, { from, follow: true, onUpdate: (updated) => ctx.setStatusMessage(updated.statusMessage) });
  } finally {
    await ctx.checkpoint({ jobLogCopy: { bytes: from + ctx.log.size - start, ...(ctx.signal.aborted ? { cancelled: true as const } : {}) } });
  }
}

/** What follows the copy: a cancelled request cancels the job; otherwise the job's outcome, --down, the verdict. */
async function afterCopy(ctx: OperationContext<'launch' | 'exec'>, job: SupervisedJob, cancelled: boolean): Promise<LaunchResult> {
  const { clusterName } = ctx.body;
  const { jobId } = job.record;
  if (cancelled || ctx.signal.aborted) {
    await ctx.services.clusters.cancelJob(clusterName, jobId).catch(() => undefined);
    throw fail.request_cancelled('the request was cancelled');
  }
  const outcome = await job.outcome;
  await downAfterJob(ctx);
  const result: LaunchResult = { clusterName, jobId, exitCode: outcome.exitCode, jobStatus: outcome.status };
  if (outcome.status === 'SUCCEEDED') {
    ctx.log.line(`✓ Job ${jobId} on ${clusterName} succeeded.`);
    return result;
  }
  const what = outcome.status === 'CANCELLED' ? 'was cancelled' : `failed: ${outcome.reason ?? `exit code ${outcome.exitCode}`}`;
  throw jobFailed(outcome.status === 'CANCELLED' ? 'job_cancelled' : 'job_failed', `job ${jobId} on ${clusterName} ${what}`, result);
}

/** After a restart: carry on from the step the request had reached, its copy of the job's log exactly where it stopped. */
async function resumeFollowing(ctx: OperationContext<'launch' | 'exec'>): Promise<LaunchResult> {
  // The server resumes only requests that recorded their job (core.ts).
  const following = ctx.request.result;
  if (!following) throw fail.internal(`request ${ctx.request.id} has no job to follow`);
  const { clusterName, jobId } = following;
  const { clusters } = ctx.services;
  const record = clusters.job(clusterName, jobId);
  if (ctx.body.detachRun) {
    // Stopped between starting a detached job and answering: the job runs on, as asked.
    ctx.log.line(`Job ${jobId} submitted to ${clusterName}. Running detached. Follow it with: skydeck logs ${clusterName} ${jobId}`);
    return { clusterName, jobId, jobStatus: record.status };
  }
  const job: SupervisedJob = clusters.running(clusterName, jobId) ?? {
    record,
    outcome: Promise.resolve<JobOutcome>({
      status: record.status === 'SUCCEEDED' || record.status === 'CANCELLED' ? record.status : 'FAILED',
      exitCode: record.exitCode,
      reason: record.failureReason,
    }),
  };
  // While the copy ran nothing else was written, so all that landed past the header is the job's; once it
  // had ended, its recorded length is (the lines after it are the request's own: a teardown's, the
  // verdict, an error, a cancel). Never past the job log's end either (a state left before copies recorded
  // their end), or the copy would wait for bytes that never come.
  const header = ctx.request.logHeaderBytes ?? 0;
  const ended = ctx.request.jobLogCopy;
  const jobLogSize = statSync(record.logPath, { throwIfNoEntry: false })?.size ?? 0;
  const copied = Math.max(0, Math.min(ended?.bytes ?? Infinity, ctx.log.size - header, jobLogSize));
  // The steps after the copy are taken again, without writing their lines twice.
  if (header + copied < ctx.log.size) ctx.log.writtenBefore(header + copied);
  if (!ended) await copyUntilJobEnds(ctx, job, copied);
  return afterCopy(ctx, job, ended?.cancelled === true);
}
