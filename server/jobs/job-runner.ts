// One managed job from submission to its end: for each task of it, a cluster of its own placed by the
// optimizer, the task's job started there and its output copied into the managed job's log, and when the
// job on the cluster ends, the recovery rule (recovery.ts) decides: next task, a new cluster, or the end.
// Every step is recorded before it is taken, so a restarted server resumes the job where it was.
import { isManagedJobFinished, type ManagedJobStatus } from '../../protocol/jobs';
import { isJobFinished } from '../../protocol/model';
import type { SupervisedJob } from '../clusters/cluster-service';
import { fail, SkyDeckError } from '../errors';
import type { ClusterRecord, JobOutcome } from '../infra/backend';
import { registryLogin } from '../infra/container/image';
import { choosePlacement, formatConsidered, planFromTask, type ConsideredPlacement } from '../infra/optimizer';
import { followFile } from '../logs/follow';
import { LogWriter } from '../logs/log-writer';
import { cloneWorkdir } from '../operations/git-workdir';
import { jobSpec } from '../operations/run-task';
import type { ControllerDeps } from './controller';
import { afterCodeFailure, ending, type Ending } from './recovery';
import type { Attempt, ManagedJobRecord } from './records';

/** Between placement rounds when nothing can hold the task now. */
const RETRY_MS = Number(process.env.SKYDECK_JOBS_RETRY_MS ?? 3000);
/** Rounds a first launch tries before FAILED_NO_RESOURCE (SkyPilot tries 3 times). */
const LAUNCH_ROUNDS = 3;
/** How long a recovery keeps trying to find capacity before FAILED_NO_RESOURCE. */
const RECOVERY_TIMEOUT_MS = Number(process.env.SKYDECK_JOBS_RECOVERY_TIMEOUT_MS ?? 3_600_000);

/** Thrown when no infra could hold the task within the limits above. */
class NoCapacity extends Error {}

/** The job on the cluster and where its output is copied from. */
interface Started {
  attempt: Attempt & { clusterJobId: number };
  supervised: SupervisedJob;
}

export class JobRunner {
  private readonly abort = new AbortController();
  private readonly log: LogWriter;
  private releaseSlot: (() => void) | undefined;
  /** Tear-downs of failed clusters under way in the background; the job's end waits for them. */
  private readonly teardowns = new Set<Promise<void>>();
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ControllerDeps,
    readonly job: ManagedJobRecord,
  ) {
    this.log = new LogWriter(deps.store.controllerLogPath(job.id));
  }

  start(): this {
    this.done = this.run();
    return this;
  }

  /** Stops the job wherever it is; `done` settles once its clusters are gone and it is CANCELLED. */
  cancel(): void {
    // The job is CANCELLING by now; the task's status still says where the cancel caught it.
    if (!this.signal.aborted) this.note(`cancel requested while ${this.job.tasks[this.job.currentTask]!.status}; CANCELLING`);
    this.abort.abort(fail.request_cancelled(`managed job ${this.job.id} was cancelled`));
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private note(line: string): void {
    this.log.line(`${new Date().toISOString()} ${line}`);
  }

  private async update(patch: Partial<ManagedJobRecord>): Promise<void> {
    await this.deps.store.update(this.job, patch);
  }

  /** The task's status is the job's while it is the current one; `also` is recorded in the same write. */
  private async setStatus(index: number, status: ManagedJobStatus, message?: string, also: Partial<ManagedJobRecord> = {}): Promise<void> {
    const task = this.job.tasks[index]!;
    task.status = status;
    if (status === 'RUNNING') task.startedAt ??= Date.now();
    await this.update({ ...also, status, statusMessage: message });
  }

  private async run(): Promise<void> {
    const { job } = this;
    try {
      if (job.status === 'CANCELLING') throw this.signal.reason ?? fail.request_cancelled('cancelled before a restart');
      if (!job.specs) throw fail.internal('the tasks of this job were not kept');
      for (let i = job.currentTask; i < job.tasks.length; i++) {
        if (i !== job.currentTask) await this.update({ currentTask: i });
        const status = await this.runTask(i);
        if (status !== 'SUCCEEDED') return await this.finish(status);
      }
      await this.finish('SUCCEEDED');
    } catch (err) {
      if (this.signal.aborted || job.status === 'CANCELLING') {
        await this.finish('CANCELLED').catch((e: Error) => this.deps.serverLog(`managed job ${job.id}: ${e.message}`));
      } else if (err instanceof NoCapacity) {
        await this.finish('FAILED_NO_RESOURCE', err.message);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        this.note(`controller error: ${message}`);
        this.deps.serverLog(`managed job ${job.id}: controller error: ${message}`);
        await this.finish('FAILED_CONTROLLER', `the controller failed: ${message}`).catch(() => undefined);
      }
    } finally {
      this.releaseSlot?.();
      await this.log.close();
    }
  }

  /** Runs task `index` to its end (recovering it as often as the rules allow); returns its final status. */
  private async runTask(index: number): Promise<ManagedJobStatus> {
    const task = this.job.tasks[index]!;
    if (isManagedJobFinished(task.status)) {
      // A restart found the task's end recorded: only the tear-down of its clusters may be left.
      this.note(`the server restarted; task ${index} had ended ${task.status}`);
      await this.releaseRetiring();
      return task.status;
    }
    let started = await this.resumeAttempt();
    for (;;) {
      if (!started) {
        const recovering = task.status === 'RECOVERING';
        started = await this.launchAttempt(index, recovering);
        if (!started) continue; // the job could not start on the new cluster: that cluster is retired, try again
      }
      const outcome = await this.follow(index, started);
      const end = ending(outcome);
      const cluster = started.attempt.cluster;
      started = undefined;
      // The task's end is recorded, and its cluster moved to `retiring`, before the cluster is torn down:
      // the cluster's record of the job goes with it, and a restart that found neither would run the task again.
      if (end.kind === 'succeeded') {
        this.note(`task ${index} succeeded on ${cluster}`);
        Object.assign(task, { status: 'SUCCEEDED', endedAt: Date.now(), exitCode: 0 });
        await this.update(this.attemptOver(cluster));
        await this.release(cluster);
        return 'SUCCEEDED';
      }
      if (end.kind === 'code') {
        const decision = afterCodeFailure(task, end);
        task.exitCode = end.exitCode;
        if (!decision.restart) {
          this.note(`task ${index} failed: ${end.reason}; no restart left (max_restarts_on_errors: ${task.recovery.maxRestartsOnErrors}, used ${task.restartsOnErrors})`);
          Object.assign(task, { status: decision.status, endedAt: Date.now(), failureReason: end.reason });
          await this.update({ ...this.attemptOver(cluster), failureReason: end.reason });
          await this.release(cluster);
          return decision.status;
        }
        if (decision.counted) task.restartsOnErrors++;
        task.recoveryCount++;
        const why = decision.counted ? `restart ${task.restartsOnErrors} of ${task.recovery.maxRestartsOnErrors} (max_restarts_on_errors)` : `exit code ${end.exitCode} is in recover_on_exit_codes`;
        this.note(`task ${index} failed: ${end.reason}; restarting it on a new cluster: ${why}`);
        // Counted once: the restart is recorded with the cluster's move to `retiring`, so a server killed
        // before the cluster is gone neither follows its failed job again nor loses the cluster.
        await this.setStatus(index, 'RECOVERING', `restarting after: ${end.reason}`, this.attemptOver(cluster));
        // The cluster is healthy (the code failed, not the node): it goes before the next one is placed.
        await this.release(cluster);
        continue;
      }
      await this.recoverFrom(index, cluster, end);
    }
  }

  /** The infra failed under the task: keep the failed cluster out of the way and place the task anew. */
  private async recoverFrom(index: number, cluster: string, end: Extract<Ending, { kind: 'infra' }>): Promise<void> {
    const task = this.job.tasks[index]!;
    task.recoveryCount++;
    this.note(`task ${index} lost its cluster ${cluster} (${task.infra}): ${end.reason}; recovering (recovery ${task.recoveryCount})`);
    await this.setStatus(index, 'RECOVERING', `recovering: ${end.reason}`, this.attemptOver(cluster));
  }

  /**
   * After a restart: the attempt that was under way. A job already started on its cluster is followed
   * again (it may have ended meanwhile: its outcome is the record's); a cluster whose job had not started
   * yet is either found to hold it after all, or torn down and the attempt made again.
   */
  private async resumeAttempt(): Promise<Started | undefined> {
    const attempt = this.job.attempt;
    if (!attempt) return undefined;
    const { clusters } = this.deps;
    let jobId = attempt.clusterJobId;
    if (jobId === undefined) {
      const found = clusters.jobs(attempt.cluster).filter((j) => j.requestId === this.job.requestId).at(-1);
      if (!found) {
        this.note(`the server restarted while ${attempt.cluster} was being provisioned; provisioning again`);
        await this.teardown(attempt.cluster);
        await this.update({ attempt: undefined });
        return undefined;
      }
      jobId = found.jobId;
      const logStart = new LogWriter(this.deps.store.logPath(this.job.id)).size;
      await this.update({ attempt: { ...attempt, clusterJobId: jobId, logStart } });
    }
    const record = clusters.jobs(attempt.cluster).find((j) => j.jobId === jobId);
    const current = { ...attempt, clusterJobId: jobId };
    if (!record) {
      // The cluster went away while the server was down (torn down from outside).
      const outcome: JobOutcome = { status: 'FAILED', reason: `cluster ${attempt.cluster} and its job were gone after a server restart` };
      return { attempt: current, supervised: { record: { cluster: attempt.cluster, jobId, status: 'FAILED', owner: this.job.owner, submittedAt: 0, logPath: '/nonexistent' }, outcome: Promise.resolve(outcome) } };
    }
    this.note(`the server restarted; following job ${jobId} on ${attempt.cluster} again (${record.status})`);
    // That cluster holds its nodes: failed clusters still to be torn down (the server stopped first) may go.
    this.releaseRetiringInBackground();
    const supervised = clusters.running(attempt.cluster, jobId) ?? {
      record,
      outcome: Promise.resolve<JobOutcome>({ status: record.status === 'SUCCEEDED' || record.status === 'CANCELLED' ? record.status : 'FAILED', exitCode: record.exitCode, reason: record.failureReason }),
    };
    return { attempt: current, supervised };
  }

  /** Waits for a launch slot, places and provisions a cluster, and starts the task's job on it. */
  private async launchAttempt(index: number, recovering: boolean): Promise<Started | undefined> {
    if (!this.releaseSlot) {
      this.releaseSlot = await this.deps.slots.acquire(this.signal, (why) => void this.update({ statusMessage: why }));
    }
    await this.setStatus(index, recovering ? 'RECOVERING' : 'STARTING', recovering ? 'provisioning a new cluster' : 'provisioning the cluster');
    const cluster = await this.provision(index, recovering);
    // The new cluster holds its nodes now: the failed ones may go.
    this.releaseRetiringInBackground();
    try {
      return await this.startOn(cluster, index, recovering);
    } catch (err) {
      if (this.signal.aborted) throw err;
      await this.recoverFrom(index, cluster.name, { kind: 'infra', reason: `the job could not start: ${(err as Error).message}` });
      return undefined;
    }
  }

  /** The attempt on `cluster` is over: written as one with the task's end or recovery, its cluster joins `retiring`. */
  private attemptOver(cluster: string): Pick<ManagedJobRecord, 'attempt' | 'retiring'> {
    return { attempt: undefined, retiring: [...this.job.retiring, cluster] };
  }

  /**
   * Tears down a cluster of `retiring`; it leaves the list only once it is gone. Cleared first, a server
   * killed before the tear-down finished would forget the cluster for good; this way the restarted server
   * finds it there and tears it down.
   */
  private async release(name: string): Promise<void> {
    await this.teardown(name);
    await this.update({ retiring: this.job.retiring.filter((n) => n !== name) });
  }

  private async releaseRetiring(): Promise<void> {
    for (const name of this.job.retiring) await this.release(name);
  }

  private releaseRetiringInBackground(): void {
    for (const name of this.job.retiring) {
      const tracked = this.release(name)
        .catch((err: Error) => this.note(`tear-down failed: ${err.message}`))
        .finally(() => this.teardowns.delete(tracked));
      this.teardowns.add(tracked);
    }
  }

  /**
   * A cluster for the task: every placement the optimizer considers, in the strategy's order, until one
   * provisions. When none can, failed clusters still held are let go (their infra may be the only one)
   * and, after a pause, everything is tried again: a few rounds for a first launch, for a recovery until
   * RECOVERY_TIMEOUT_MS.
   */
  private async provision(index: number, recovering: boolean): Promise<ClusterRecord> {
    const task = this.job.tasks[index]!;
    const plan = planFromTask(this.job.specs![index]!);
    const since = Date.now();
    let lastTable: string | undefined;
    for (let round = 1; ; round++) {
      this.signal.throwIfAborted();
      let why: string;
      try {
        const choice = await choosePlacement(this.deps.backends, plan);
        const table = formatConsidered(choice);
        if (table !== lastTable) this.note(table);
        lastTable = table;
        const failures: string[] = [];
        for (const placement of this.ordered(choice.considered, task.recovery.strategy, recovering ? task.infra : undefined)) {
          try {
            return await this.provisionOn(index, placement);
          } catch (err) {
            if (this.signal.aborted) throw err;
            failures.push(`${placement.infra}: ${(err as Error).message}`);
            this.note(`could not provision on ${placement.infra}: ${(err as Error).message}`);
          }
        }
        why = failures.join('; ');
      } catch (err) {
        if (!(err instanceof SkyDeckError) || err.code !== 'resources_unavailable') throw err;
        why = err.message;
      }
      if (this.job.retiring.length > 0) {
        this.note(`nothing else can hold the task; releasing the failed cluster(s) ${this.job.retiring.join(', ')} so their infra can be tried again`);
        await this.releaseRetiring();
        continue;
      }
      if (!recovering && round >= LAUNCH_ROUNDS) throw new NoCapacity(`no infra could hold the task after ${round} tries: ${why}`);
      if (recovering && Date.now() - since > RECOVERY_TIMEOUT_MS) throw new NoCapacity(`no infra could hold the task for ${Math.round((Date.now() - since) / 60_000)} minutes of recovery: ${why}`);
      await this.update({ statusMessage: `waiting for capacity: ${why.split('\n').join(' ').slice(0, 300)}` });
      await sleep(RETRY_MS, this.signal);
    }
  }

  /**
   * EAGER_NEXT_REGION leaves the infra that just failed for last; FAILOVER tries it first (its other
   * hosts: the failed ones are still held). Otherwise the optimizer's order stands.
   */
  private ordered(considered: ConsideredPlacement[], strategy: string, failedInfra: string | undefined): ConsideredPlacement[] {
    if (failedInfra === undefined) return considered;
    const same = considered.filter((p) => p.infra === failedInfra);
    const other = considered.filter((p) => p.infra !== failedInfra);
    return strategy === 'FAILOVER' ? [...same, ...other] : [...other, ...same];
  }

  private async provisionOn(index: number, placement: ConsideredPlacement): Promise<ClusterRecord> {
    const { clusters } = this.deps;
    const task = this.job.tasks[index]!;
    const spec = this.job.specs![index]!;
    const attempts = this.job.attempts + 1;
    const name = `sky-jobs-${this.job.id}-${attempts}`;
    task.cluster = name;
    task.infra = placement.infra;
    // Recorded before anything is made, so a restart knows which cluster to finish or clean up.
    await this.update({ attempts, attempt: { cluster: name } });
    const release = await clusters.locks.acquire(name, `managed job ${this.job.id}`, { signal: this.signal });
    const backend = clusters.backendFor(placement.infra);
    let record: ClusterRecord = {
      name,
      infra: placement.infra,
      resources: {
        infra: placement.infra,
        cpus: spec.resources?.cpus,
        memory: spec.resources?.memory,
        accelerators: spec.resources?.accelerators,
        // The backend starts the cluster's container of this image (image_id docker:IMAGE).
        imageId: planFromTask(spec).candidates[placement.candidate]?.imageId,
      },
      numNodes: placement.numNodes,
      status: 'INIT',
      owner: this.job.owner,
      launchedAt: Date.now(),
      nodes: [],
    };
    try {
      await clusters.save(record);
      this.note(`provisioning ${name} on ${placement.infra} for task ${index}`);
      const provisioned = await backend.provision(record, placement, this.log, this.signal, { registryLogin: registryLogin(jobSpec(spec, this.deps).envs) });
      record = { ...record, ...provisioned, status: 'UP', statusMessage: undefined };
      await clusters.save(record);
      this.note(`${name} is UP (${record.nodes.map((n) => n.host ?? n.ip).join(', ')})`);
      return record;
    } catch (err) {
      await backend.teardown(record, this.log).catch(() => undefined);
      await clusters.remove(name);
      await this.update({ attempt: undefined });
      throw err;
    } finally {
      release();
    }
  }

  /** Starts the task's job on the cluster, with the task's SKYPILOT_TASK_ID, and records where its output begins. */
  private async startOn(cluster: ClusterRecord, index: number, recovering: boolean): Promise<Started> {
    const { clusters } = this.deps;
    const task = this.job.specs![index]!;
    // A git workdir is cloned for every attempt (from the same ref), copied to the nodes, then removed.
    const clone = typeof task.workdir === 'object' ? await cloneWorkdir(task.workdir, this.signal) : undefined;
    if (clone) this.note(`checked out ${clone.commit.slice(0, 12)} of ${task.workdir && typeof task.workdir === 'object' ? task.workdir.url : ''}`);
    const release = await clusters.locks.acquire(cluster.name, `managed job ${this.job.id}`, { signal: this.signal });
    try {
      const spec = { ...jobSpec(task, this.deps), ...(clone ? { workdir: clone.dir } : {}), taskId: this.job.taskIds[index]! };
      const supervised = await clusters.startJob(cluster, spec, this.job.owner, this.job.requestId);
      const jobLog = new LogWriter(this.deps.store.logPath(this.job.id));
      if (recovering || index > 0) {
        const what = recovering ? `recovered (recovery ${this.job.tasks[index]!.recoveryCount})` : `task ${index}${this.job.tasks[index]!.name ? ` (${this.job.tasks[index]!.name})` : ''}`;
        jobLog.line(`[skydeck] managed job ${this.job.id} ${what}: running on ${cluster.name} (${cluster.infra})`);
      }
      await jobLog.close();
      const attempt = { cluster: cluster.name, clusterJobId: supervised.record.jobId, logStart: jobLog.size };
      await this.update({ attempt });
      this.note(`started job ${attempt.clusterJobId} on ${cluster.name}`);
      return { attempt, supervised };
    } finally {
      release();
      await clone?.remove();
    }
  }

  /**
   * Copies the cluster job's output into the managed job's log until it ends, marking the task RUNNING
   * when setup is done; resolves with how it ended. A cancel stops the copy (the caller cleans up).
   */
  private async follow(index: number, started: Started): Promise<JobOutcome> {
    const { record } = started.supervised;
    const jobLog = new LogWriter(this.deps.store.logPath(this.job.id));
    const from = Math.max(0, jobLog.size - (started.attempt.logStart ?? jobLog.size));
    const markRunning = () => {
      if (record.status !== 'RUNNING' || this.job.tasks[index]!.status === 'RUNNING') return;
      this.releaseSlot?.();
      this.releaseSlot = undefined;
      const now = Date.now();
      this.job.startedAt ??= now;
      this.job.runningSince = now;
      void this.setStatus(index, 'RUNNING');
    };
    const wakers = new Set<() => void>();
    const unwatch = this.deps.watchClusterJob(record, () => {
      markRunning();
      for (const wake of wakers) wake();
    });
    try {
      markRunning();
      await followFile(record.logPath, {
        from,
        follow: true,
        isDone: () => isJobFinished(record.status),
        onData: (chunk) => jobLog.append(chunk),
        signal: this.signal,
        subscribeWake: (wake) => (wakers.add(wake), () => wakers.delete(wake)),
      });
    } finally {
      unwatch();
      await jobLog.close();
    }
    this.signal.throwIfAborted();
    const outcome = await started.supervised.outcome;
    this.releaseSlot?.();
    this.releaseSlot = undefined;
    if (this.job.runningSince !== undefined) await this.update({ jobDurationMs: this.job.jobDurationMs + (Date.now() - this.job.runningSince), runningSince: undefined });
    return outcome;
  }

  /** Cancels what still runs on the cluster and removes it. Never aborted: a cancelled job must still clean up. */
  private async teardown(name: string): Promise<void> {
    const { clusters } = this.deps;
    const release = await clusters.locks.acquire(name, `managed job ${this.job.id} (tear-down)`);
    try {
      const cluster = clusters.get(name);
      if (!cluster) return;
      for (const j of clusters.activeJobs(name)) await clusters.cancelJob(name, j.jobId).catch((err: Error) => this.note(`could not cancel job ${j.jobId} on ${name}: ${err.message}`));
      await clusters.backendFor(cluster.infra).teardown(cluster, this.log);
      await clusters.remove(name);
      this.note(`${name} is torn down`);
    } finally {
      release();
    }
  }

  /** Ends the job: every cluster of it torn down first, then the final status (and the tasks after the current one CANCELLED). */
  private async finish(status: ManagedJobStatus, reason?: string): Promise<void> {
    const { job } = this;
    const clustersLeft = [...new Set([...(job.attempt ? [job.attempt.cluster] : []), ...job.retiring])];
    await Promise.all([...this.teardowns]);
    for (const name of clustersLeft) await this.teardown(name).catch((err: Error) => this.note(`could not tear down ${name}: ${err.message}`));
    const now = Date.now();
    const current = job.tasks[job.currentTask]!;
    if (status !== 'SUCCEEDED') current.status = status;
    current.endedAt ??= now;
    if (reason) current.failureReason = reason;
    for (const t of job.tasks.slice(job.currentTask + 1)) t.status = status === 'SUCCEEDED' ? t.status : 'CANCELLED';
    const duration = job.runningSince !== undefined ? job.jobDurationMs + (now - job.runningSince) : job.jobDurationMs;
    this.note(`managed job ${job.id} ${status}${reason ? `: ${reason}` : ''}`);
    // On disk before the end is announced: a reader that stops at the job's end (jobs logs --controller) sees this line.
    await this.log.close();
    await this.update({ status, endedAt: now, retiring: [], jobDurationMs: duration, ...(reason ? { failureReason: reason } : {}) });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), reject(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
