// The managed-jobs controller: runs inside the API server (no controller cluster), one JobRunner per
// unfinished job. It takes submissions, cancels (whatever the state, within a second), and after a
// restart resumes every job the store holds unfinished.
import os from 'node:os';
import { isManagedJobFinished, type ManagedJob } from '../../protocol/jobs';
import type { Job, User } from '../../protocol/model';
import { pathMounts, resourceCandidates, type Task } from '../../protocol/task';
import { UPLOAD_SCHEME } from '../../protocol/upload';
import type { ClusterService } from '../clusters/cluster-service';
import type { InfraBackends } from '../infra/registry';
import type { UploadStore } from '../uploads';
import { JobRunner } from './job-runner';
import type { ManagedJobStore } from './job-store';
import { LaunchSlots } from './launch-slots';
import type { ManagedJobRecord } from './records';
import { recoveryPolicy } from './recovery';

/** What a runner works with. */
export interface ControllerDeps {
  clusters: ClusterService;
  backends: InfraBackends;
  uploads: UploadStore;
  store: ManagedJobStore;
  slots: LaunchSlots;
  serverLog: (line: string) => void;
  /** Calls `onUpdate` on every change of that cluster job until the returned function is called. */
  watchClusterJob(job: Pick<Job, 'cluster' | 'jobId'>, onUpdate: () => void): () => void;
}

/**
 * How often the files a client uploaded for unfinished jobs are marked as used: a recovery a day later
 * needs them again, and uploads expire with the request retention counted from their last use.
 */
const KEEP_UPLOADS_MS = 3_600_000;

/** How long cancel waits for the job's clusters to be gone before it answers (the job goes on to CANCELLED regardless). */
const CANCEL_WAIT_MS = 5000;

/** Jobs provisioning at once: launching is mostly waiting on infra, a few per core. */
function defaultLaunchSlots(): number {
  const fromEnv = Number(process.env.SKYDECK_JOBS_LAUNCH_PARALLELISM);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(4, os.availableParallelism() * 4);
}

export class ManagedJobController {
  private readonly runners = new Map<number, JobRunner>();
  private readonly deps: ControllerDeps;
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly keepUploads: NodeJS.Timeout;

  constructor(options: Omit<ControllerDeps, 'slots' | 'watchClusterJob'>) {
    this.deps = { ...options, slots: new LaunchSlots(defaultLaunchSlots()), watchClusterJob: (job, onUpdate) => this.watch(job, onUpdate) };
    // One listener for every runner (Node warns past ten on one emitter).
    options.clusters.on('job', (_event, job) => {
      for (const wake of this.watchers.get(`${job.cluster}/${job.jobId}`) ?? []) wake();
    });
    this.keepUploads = setInterval(() => this.touchUploads(), KEEP_UPLOADS_MS);
    this.keepUploads.unref();
  }

  private touchUploads(): void {
    for (const record of this.deps.store.live()) {
      if (isManagedJobFinished(record.status)) continue;
      for (const task of record.specs ?? []) {
        const refs = [typeof task.workdir === 'string' ? task.workdir : undefined, ...Object.values(pathMounts(task.file_mounts))];
        for (const ref of refs) {
          if (!ref?.startsWith(UPLOAD_SCHEME)) continue;
          try {
            this.deps.uploads.touch(ref);
          } catch {
            // already gone: the next attempt says so (upload_missing)
          }
        }
      }
    }
  }

  get store(): ManagedJobStore {
    return this.deps.store;
  }

  private watch(job: Pick<Job, 'cluster' | 'jobId'>, onUpdate: () => void): () => void {
    const key = `${job.cluster}/${job.jobId}`;
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(onUpdate);
    return () => {
      set.delete(onUpdate);
      if (set.size === 0) this.watchers.delete(key);
    };
  }

  /** Records a job PENDING and starts its runner. `tasks` are as submitted, secrets included. */
  async submit(tasks: Task[], name: string | undefined, owner: User, requestId: string): Promise<ManagedJob> {
    const now = Date.now();
    const record = await this.deps.store.create(
      (id): ManagedJobRecord => ({
        id,
        name: name ?? tasks[0]!.name,
        owner,
        status: 'PENDING',
        tasks: tasks.map((t, index) => ({ index, name: t.name, status: 'PENDING', resources: describeResources(t), recovery: recoveryPolicy(t), recoveryCount: 0, restartsOnErrors: 0 })),
        currentTask: 0,
        submittedAt: now,
        jobDurationMs: 0,
        requestId,
        specs: tasks,
        // SkyPilot's form for managed tasks: the same on every cluster the task is recovered onto.
        taskIds: tasks.map((_, i) => `sky-managed-${new Date(now).toISOString()}_${name ?? tasks[0]!.name ?? 'job'}_${id}-${i}`),
        retiring: [],
        attempts: 0,
      }),
    );
    this.run(record);
    return this.deps.store.require(record.id);
  }

  private run(record: ManagedJobRecord): void {
    const runner = new JobRunner(this.deps, record).start();
    this.runners.set(record.id, runner);
    void runner.done.finally(() => this.runners.delete(record.id));
  }

  /**
   * Cancels a job in any state: a PENDING one never starts; one under way is CANCELLING at once, its
   * cluster job stopped and its clusters torn down, then CANCELLED. Returns false if it had already ended.
   */
  async cancel(id: number): Promise<boolean> {
    const record = this.deps.store.get(id);
    if (!record || isManagedJobFinished(record.status)) return false;
    const runner = this.runners.get(id);
    if (record.status !== 'PENDING') await this.deps.store.update(record, { status: 'CANCELLING', statusMessage: 'cancelling: stopping the job and tearing its cluster down' });
    if (!runner) {
      // Nothing runs it (a restart found it CANCELLING): a runner that starts cancelled cleans up.
      this.run(record);
    }
    this.runners.get(id)?.cancel();
    await Promise.race([this.runners.get(id)?.done, new Promise((r) => setTimeout(r, CANCEL_WAIT_MS))]);
    return true;
  }

  /** After a restart: every unfinished job carries on from its last recorded step. */
  resumeAll(): void {
    for (const record of this.deps.store.live()) {
      if (isManagedJobFinished(record.status)) continue;
      this.deps.serverLog(`resumed managed job ${record.id} (${record.status})`);
      this.run(record);
      if (record.status === 'CANCELLING') this.runners.get(record.id)?.cancel();
    }
  }

  /** Unfinished jobs are left as they are (their cluster jobs run on); a restarted server resumes them. */
  close(): void {
    clearInterval(this.keepUploads);
    this.runners.clear();
  }
}

/** The queue's REQUESTED column: `2x[cpus=4 A100:1]` on the infra asked for. */
function describeResources(task: Task): string {
  const { candidates } = resourceCandidates(task.resources);
  const c = candidates[0] ?? {};
  const parts = [c.cpus && `cpus=${c.cpus}`, c.memory && `mem=${c.memory}`, c.accelerators].filter(Boolean);
  const nodes = task.num_nodes ?? 1;
  const infra = candidates.length > 1 ? `${candidates.length} candidates` : (c.infra ?? 'any infra');
  return `${nodes}x ${infra}${parts.length > 0 ? ` [${parts.join(' ')}]` : ''}`;
}
