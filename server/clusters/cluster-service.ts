// Clusters and their jobs: records in the live state, one lock per cluster for changes to it, and the
// supervision of every running job (started here or found again after a restart).
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isJobFinished, type Cluster, type ClusterNode, type Job, type User } from '../../protocol/model';
import { fail } from '../errors';
import { isSupported, type ClusterRecord, type InfraBackend, type JobOutcome, type JobSpec } from '../infra/backend';
import type { InfraBackends } from '../infra/registry';
import { LogWriter } from '../logs/log-writer';
import type { JobRecord, StateDb } from '../store/state-db';
import { ClusterLocks } from './cluster-locks';
import { JobArchive } from './job-archive';

export interface ClusterEvents {
  cluster: [event: 'updated' | 'removed', cluster: Cluster];
  job: [event: 'updated', job: Job];
}

/** A job being supervised: its end, and the moment setup is over. */
export interface SupervisedJob {
  record: JobRecord;
  outcome: Promise<JobOutcome>;
}

/** A cluster as clients see it: without its backend's handle, with what its infra lets them do. */
function publicCluster(record: ClusterRecord, backend: InfraBackend): Cluster {
  const { handle: _handle, ...cluster } = record;
  return { ...cluster, canStop: isSupported(backend.capabilities.stopStart) };
}

export function publicJob(record: JobRecord): Job {
  const { handle: _handle, logPath: _logPath, spec: _spec, ...job } = record;
  return job;
}

/** Finished jobs kept in the live state per cluster; older ones move to the archive. */
const RECENT_FINISHED_JOBS = 100;

export class ClusterService extends EventEmitter<ClusterEvents> {
  readonly locks = new ClusterLocks();
  private readonly supervised = new Map<string, SupervisedJob>();
  /** Jobs whose backend is starting them: a cancel waits for the start, so it has a handle to kill. */
  private readonly starting = new Map<string, Promise<unknown>>();
  private readonly archive: JobArchive;
  /**
   * Per cluster, the jobs whose allocation holds nodes now, oldest first (infra that allocates nodes
   * per job: Slurm). The latest gives the cluster its addresses; with none, its nodes have none.
   */
  private readonly allocations = new Map<string, Map<number, ClusterNode[]>>();

  constructor(
    private readonly state: StateDb,
    private readonly infra: InfraBackends,
    private readonly jobLogDir: string,
  ) {
    super();
    this.archive = new JobArchive(jobLogDir);
  }

  /** The backend of an infra, whether or not its configuration still turns it on: its clusters need it either way. */
  backendFor(infra: string): InfraBackend {
    return this.infra.of(infra);
  }

  /** The cluster as clients see it. */
  public(record: ClusterRecord): Cluster {
    return publicCluster(record, this.backendFor(record.infra));
  }

  list(): Cluster[] {
    return Object.values(this.state.data.clusters).map((c) => this.public(c));
  }

  get(name: string): ClusterRecord | undefined {
    return this.state.data.clusters[name];
  }

  require(name: string): ClusterRecord {
    const cluster = this.get(name);
    if (!cluster) throw fail.not_found(`cluster ${name} does not exist`);
    return cluster;
  }

  async save(cluster: ClusterRecord): Promise<void> {
    this.state.data.clusters[cluster.name] = cluster;
    await this.state.persist();
    this.emit('cluster', 'updated', this.public(cluster));
  }

  /** Forgets a cluster, its jobs and their logs. */
  async remove(name: string): Promise<void> {
    const cluster = this.state.data.clusters[name];
    delete this.state.data.clusters[name];
    delete this.state.data.jobs[name];
    delete this.state.data.nextJobId[name];
    await this.state.persist();
    await rm(path.join(this.jobLogDir, name), { recursive: true, force: true });
    if (cluster) this.emit('cluster', 'removed', this.public(cluster));
  }

  /** The cluster's live jobs: every unfinished one and the most recent finished ones, oldest first. */
  jobs(name: string): JobRecord[] {
    return this.state.data.jobs[name] ?? [];
  }

  /** Every job the cluster has run, archived ones included, oldest first. */
  allJobs(name: string): Job[] {
    return [...this.archive.read(name), ...this.jobs(name)].map(publicJob);
  }

  job(name: string, jobId: number): JobRecord {
    const job = this.jobs(name).find((j) => j.jobId === jobId) ?? this.archive.read(name).find((j) => j.jobId === jobId);
    if (!job) throw fail.not_found(`cluster ${name} has no job ${jobId}`);
    return job;
  }

  activeJobs(name: string): JobRecord[] {
    return this.jobs(name).filter((j) => !isJobFinished(j.status));
  }

  private async updateJob(job: JobRecord, patch: Partial<JobRecord>): Promise<void> {
    Object.assign(job, patch);
    if (isJobFinished(job.status)) {
      delete job.statusMessage;
      delete job.spec;
      delete job.handle;
      this.archiveOldJobs(job.cluster);
    }
    await this.state.persist();
    this.emit('job', 'updated', publicJob(job));
  }

  private archiveOldJobs(name: string): void {
    const jobs = this.state.data.jobs[name];
    if (!jobs) return;
    const finished = jobs.filter((j) => isJobFinished(j.status));
    if (finished.length <= RECENT_FINISHED_JOBS) return;
    const old = new Set(finished.slice(0, finished.length - RECENT_FINISHED_JOBS));
    try {
      this.archive.append(name, [...old]);
    } catch {
      return; // the disk refused (full): they stay in the live state until an archive write succeeds
    }
    this.state.data.jobs[name] = jobs.filter((j) => !old.has(j));
  }

  /**
   * Starts a job on an UP cluster and supervises it to its end. A spec without a taskId gets one naming
   * this cluster and job; a managed job gives its own, the same on every cluster it is recovered onto.
   */
  async startJob(cluster: ClusterRecord, spec: Omit<JobSpec, 'jobId' | 'taskId'> & { taskId?: string }, owner: User, requestId: string): Promise<SupervisedJob> {
    const jobId = (this.state.data.nextJobId[cluster.name] ?? 0) + 1;
    this.state.data.nextJobId[cluster.name] = jobId;
    const logDir = path.join(this.jobLogDir, cluster.name);
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    const now = Date.now();
    const fullSpec: JobSpec = { ...spec, jobId, taskId: spec.taskId ?? `skydeck-${new Date(now).toISOString()}_${cluster.name}_${jobId}` };
    const record: JobRecord = {
      cluster: cluster.name,
      jobId,
      name: spec.name,
      status: 'PENDING',
      owner,
      requestId,
      submittedAt: now,
      logPath: path.join(logDir, `${jobId}.log`),
      spec: fullSpec,
    };
    (this.state.data.jobs[cluster.name] ??= []).push(record);
    await this.updateJob(record, { status: 'SETTING_UP', startedAt: now });
    const backend = this.backendFor(cluster.infra);
    const log = new LogWriter(record.logPath);
    const key = `${cluster.name}/${jobId}`;
    try {
      const start = backend.runJob(cluster, fullSpec, this.jobContext(record, log));
      this.starting.set(key, start);
      const running = await start.finally(() => this.starting.delete(key));
      if (isJobFinished(record.status)) {
        // Cancelled (by down, cancel_jobs...) while it was starting: stop what has just started.
        await backend.cancelJob(cluster, running.handle);
      } else {
        await this.updateJob(record, { handle: running.handle });
      }
      return this.supervise(record, running.outcome, log);
    } catch (err) {
      await log.close();
      await this.updateJob(record, { status: 'FAILED', endedAt: Date.now(), failureReason: (err as Error).message });
      throw err;
    }
  }

  private jobContext(record: JobRecord, log: LogWriter) {
    return {
      log,
      logPath: record.logPath,
      onRunning: () => {
        if (record.status === 'SETTING_UP') void this.updateJob(record, { status: 'RUNNING', statusMessage: undefined });
      },
      onWaiting: (reason: string | undefined) => {
        if (!isJobFinished(record.status) && record.statusMessage !== reason) void this.updateJob(record, { statusMessage: reason });
      },
      onAllocation: (nodes: ClusterNode[]) => {
        if (!isJobFinished(record.status)) void this.allocated(record, nodes);
      },
    };
  }

  /** A job's allocation got its nodes (`nodes`) or let them go (undefined): the cluster's nodes say where it runs now. */
  private async allocated(record: JobRecord, nodes: ClusterNode[] | undefined): Promise<void> {
    const held = this.allocations.get(record.cluster) ?? new Map<number, ClusterNode[]>();
    if (nodes === undefined && !held.has(record.jobId)) return;
    if (nodes) held.set(record.jobId, nodes);
    else held.delete(record.jobId);
    if (held.size > 0) this.allocations.set(record.cluster, held);
    else this.allocations.delete(record.cluster);
    const cluster = this.get(record.cluster);
    if (!cluster) return;
    const latest = [...held.values()].at(-1);
    await this.save({ ...cluster, nodes: cluster.nodes.map((n) => latest?.find((a) => a.rank === n.rank) ?? { rank: n.rank, ip: '', host: cluster.infra }) });
  }

  private supervise(record: JobRecord, outcome: Promise<JobOutcome>, log: LogWriter): SupervisedJob {
    const key = `${record.cluster}/${record.jobId}`;
    const settled = outcome
      .catch((err: Error): JobOutcome => ({ status: 'FAILED', reason: err.message }))
      .then(async (o) => {
        await log.close();
        // No await between letting go of the supervised job and recording its end: whoever finds it no
        // longer running (a request resumed after a restart) must find its outcome stored.
        this.supervised.delete(key);
        if (!isJobFinished(record.status)) {
          await this.updateJob(record, { status: o.status, exitCode: o.exitCode, failureReason: o.reason, endedAt: Date.now() });
        }
        await this.allocated(record, undefined);
        return o;
      });
    const job = { record, outcome: settled };
    this.supervised.set(key, job);
    return job;
  }

  /** The supervised job, if it still runs. */
  running(name: string, jobId: number): SupervisedJob | undefined {
    return this.supervised.get(`${name}/${jobId}`);
  }

  /** Stops a job's processes on every node; resolves once it has ended. Returns false if it had already ended. */
  async cancelJob(name: string, jobId: number): Promise<boolean> {
    const job = this.job(name, jobId);
    if (isJobFinished(job.status)) return false;
    await this.starting.get(`${name}/${jobId}`)?.catch(() => undefined);
    if (isJobFinished(job.status)) return false;
    const supervised = this.running(name, jobId);
    if (job.handle !== undefined) await this.backendFor(this.require(name).infra).cancelJob(this.require(name), job.handle);
    await this.updateJob(job, { status: 'CANCELLED', endedAt: Date.now() });
    await supervised?.outcome;
    return true;
  }

  /**
   * Checks every stored handle against its backend's schema, once, as the state is loaded: from then on
   * backends get handles of their own type. A handle that does not parse (a record written by another
   * version) is dropped with a note: its job fails below, its cluster can still be torn down.
   */
  private parseHandles(log: (line: string) => void): void {
    for (const cluster of Object.values(this.state.data.clusters)) {
      const { handles } = this.backendFor(cluster.infra);
      if (cluster.handle !== undefined) {
        const parsed = handles.cluster.safeParse(cluster.handle);
        if (parsed.success) cluster.handle = parsed.data;
        else {
          log(`cluster ${cluster.name}: its ${cluster.infra} record is not readable (${parsed.error.issues[0]?.message}); down it to release what it held`);
          delete cluster.handle;
          cluster.statusMessage = `its ${cluster.infra} record is not readable by this server version; down it and launch again`;
        }
      }
      for (const job of this.state.data.jobs[cluster.name] ?? []) {
        if (job.handle === undefined) continue;
        const parsed = handles.job.safeParse(job.handle);
        if (parsed.success) job.handle = parsed.data;
        else delete job.handle;
      }
    }
  }

  /**
   * After a restart: picks up every job that was running (a job that ended meanwhile gets its real
   * exit code) and fails the ones that never started.
   */
  async reconcile(log: (line: string) => void): Promise<void> {
    this.parseHandles(log);
    for (const name of Object.keys(this.state.data.jobs)) this.archiveOldJobs(name);
    for (const [name, jobs] of Object.entries(this.state.data.jobs)) {
      const cluster = this.get(name);
      for (const job of jobs) {
        if (isJobFinished(job.status)) continue;
        // A job whose handle never reached the store (the server stopped just as it started) is
        // looked for by the backend: taken back if it was started, failed only if it never was.
        const handle = cluster && job.spec && (job.handle ?? (await this.backendFor(cluster.infra).recoverJob?.(cluster, job.spec).catch(() => undefined)));
        if (!cluster || handle === undefined || job.spec === undefined) {
          await this.updateJob(job, { status: 'FAILED', endedAt: Date.now(), failureReason: 'the API server stopped before the job started' });
          continue;
        }
        if (job.handle === undefined) {
          await this.updateJob(job, { handle });
          log(`found job ${job.jobId} on ${name}, started just before the server stopped`);
        }
        try {
          const writer = new LogWriter(job.logPath);
          const running = await this.backendFor(cluster.infra).resumeJob(cluster, job.spec, handle, this.jobContext(job, writer));
          this.supervise(job, running.outcome, writer);
          log(`resumed job ${job.jobId} on ${name}`);
        } catch (err) {
          await this.updateJob(job, { status: 'FAILED', endedAt: Date.now(), failureReason: `could not be found again after a restart: ${(err as Error).message}` });
        }
      }
    }
    // A cluster left INIT by a provisioning the restart cut short says so.
    for (const cluster of Object.values(this.state.data.clusters)) {
      if (cluster.status === 'INIT' && !this.locks.isHeld(cluster.name)) {
        await this.save({ ...cluster, statusMessage: 'provisioning was interrupted by an API server restart; launch again to finish it' });
      }
    }
  }
}
