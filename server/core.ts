// The server's parts wired together: stores, infra backends, clusters, executor, metrics. Everything
// the HTTP and WebSocket layers use, and nothing about HTTP itself.
import { mkdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { isRequestFinished } from '../protocol/model';
import type { Authenticator } from './auth/identity';
import { ClusterService } from './clusters/cluster-service';
import { RefreshDaemon } from './clusters/refresh-daemon';
import { Executor } from './executor';
import { ManagedJobController } from './jobs/controller';
import { ManagedJobStore } from './jobs/job-store';
import { LogTails, type LogFollower, type LogReader } from './logs/log-tail';
import type { InfraBackends } from './infra/registry';
import { Metrics } from './metrics';
import type { Services } from './operations/context';
import { RequestHistory } from './store/history';
import { RequestJournal } from './store/request-journal';
import { RequestStore } from './store/request-store';
import { StateDb } from './store/state-db';
import { UploadOwners } from './upload-owners';
import { UploadStore } from './uploads';

export interface CoreOptions {
  dataDir: string;
  /** Every kind of infra backend, on or off by its configuration. */
  backends: InfraBackends;
  authenticator: Authenticator;
  retentionMs: number;
  longConcurrency: number;
  /** How often the status-refresh daemon looks after clusters (autostop, unusable infra). */
  refreshIntervalMs: number;
  log: (line: string) => void;
}

export class Core {
  readonly startedAt = Date.now();
  private readonly logTails = new LogTails();
  private retentionTimer: NodeJS.Timeout | undefined;
  private daemon: RefreshDaemon | undefined;

  private constructor(
    readonly options: CoreOptions,
    private readonly state: StateDb,
    readonly requests: RequestStore,
    readonly clusters: ClusterService,
    readonly executor: Executor,
    readonly metrics: Metrics,
    readonly uploads: UploadStore,
    readonly uploadOwners: UploadOwners,
    readonly jobs: ManagedJobController,
  ) {}

  get backends(): InfraBackends {
    return this.options.backends;
  }

  get authenticator(): Authenticator {
    return this.options.authenticator;
  }

  static async open(options: CoreOptions): Promise<Core> {
    const { dataDir } = options;
    for (const dir of [dataDir, path.join(dataDir, 'logs'), path.join(dataDir, 'job-logs')]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const state = await StateDb.open(dataDir, options.log);
    // Segments a 24th of the retention window wide (1 s to 1 h): expiry is at most that late.
    const span = Math.min(3_600_000, Math.max(1000, Math.floor(options.retentionMs / 24)));
    const requests = new RequestStore(new RequestJournal(path.join(dataDir, 'requests.jsonl')), new RequestHistory(path.join(dataDir, 'history'), span), path.join(dataDir, 'logs'), options.log);
    const clusters = new ClusterService(state, options.backends, path.join(dataDir, 'job-logs'));
    const uploads = new UploadStore(path.join(dataDir, 'uploads'));
    const uploadOwners = new UploadOwners(path.join(dataDir, 'upload-owners'));
    const jobs = new ManagedJobController({ clusters, backends: options.backends, uploads, store: new ManagedJobStore(state, path.join(dataDir, 'managed-jobs')), serverLog: options.log });
    const services: Services = {
      jobs,
      requests,
      clusters,
      backends: options.backends,
      uploads,
      uploadOwners,
      cancelRequests: async (which) => executor.cancel(requests.live().filter(which).map((r) => r.id)),
    };
    const metrics = new Metrics();
    const executor = new Executor(requests, services, metrics, options.longConcurrency);
    const core = new Core(options, state, requests, clusters, executor, metrics, uploads, uploadOwners, jobs);
    executor.rememberKeys(requests.live());
    await core.reconcile();
    await core.expire();
    core.retentionTimer = setInterval(() => void core.expire(), Math.min(600_000, Math.max(1000, span)));
    core.retentionTimer.unref();
    core.daemon = new RefreshDaemon(core, options.refreshIntervalMs);
    await core.daemon.start();
    return core;
  }

  /**
   * After a restart nothing may stay PENDING or RUNNING forever: jobs are found again, requests that
   * follow a job carry on, PENDING ones are queued again, and the rest are failed with the reason.
   */
  private async reconcile(): Promise<void> {
    await this.clusters.reconcile(this.options.log);
    // After the clusters: a managed job follows its cluster job again from what that reconcile found.
    this.jobs.resumeAll();
    for (let request of this.requests.live()) {
      if (request.status === 'PENDING') {
        const secrets = request.name === 'launch' || request.name === 'exec' ? request.body.task.secrets : undefined;
        if (secrets && Object.keys(secrets).length > 0) {
          await this.requests.update(request.id, { status: 'FAILED', error: { type: 'server_restarted', message: 'the API server restarted before this request started, and its secrets are not kept; submit it again' } });
        } else {
          this.executor.enqueue(request);
        }
        continue;
      }
      if ((request.name === 'launch' || request.name === 'exec') && (request.result?.jobId === undefined || request.logHeaderBytes === undefined)) {
        // Stopped between starting the job and recording it on the request: the job record names
        // its request, and nothing of the job's log was copied yet, so the copy starts at its beginning.
        const job = request.clusterName === undefined ? undefined : this.clusters.jobs(request.clusterName).find((j) => j.requestId === request.id);
        if (job) {
          const result = { clusterName: job.cluster, jobId: job.jobId, jobStatus: job.status };
          request = await this.requests.update(request.id, { result, logHeaderBytes: statSync(this.requests.logPath(request.id), { throwIfNoEntry: false })?.size ?? 0 });
        }
      }
      if ((request.name === 'launch' || request.name === 'exec') && request.result?.jobId !== undefined && request.logHeaderBytes !== undefined) {
        this.executor.resume(request);
        this.options.log(`resumed request ${request.id} (${request.name}, following job ${request.result.jobId})`);
        continue;
      }
      await this.requests.update(request.id, {
        status: 'FAILED',
        error: { type: 'server_restarted', message: 'the API server stopped while this request was running; its worker is gone' },
      });
    }
  }

  private async expire(): Promise<void> {
    const removed = await this.requests.expire(Date.now(), this.options.retentionMs);
    await this.uploads.expire(Date.now(), this.options.retentionMs);
    this.uploadOwners.expire(path.join(this.options.dataDir, 'uploads'));
    if (removed > 0) this.options.log(`removed ${removed} finished request(s) past the retention window`);
  }

  /** Resolves when the request has finished, the time is up, or the caller hung up. */
  waitUntilFinished(id: string, timeoutMs: number, caller?: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.requests.off('request', onEvent);
        caller?.off('close', done);
        resolve();
      };
      const onEvent = (_event: string, r: { id: string; status: Parameters<typeof isRequestFinished>[0] }) => {
        if (r.id === id && isRequestFinished(r.status)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.requests.on('request', onEvent);
      caller?.on('close', done);
      const current = this.requests.summary(id);
      if (!current || isRequestFinished(current.status)) done();
    });
  }

  /**
   * Follows a request's log from byte `from` until the request has finished. The WebSocket and HTTP
   * streams of one log share one reader of its file, however many follow it.
   */
  followRequestLog(id: string, from: number, reader: LogReader, options: { follow: boolean }): LogFollower {
    const source = {
      isDone: () => isRequestFinished(this.requests.summary(id)?.status ?? 'SUCCEEDED'),
      subscribeWake: (wake: () => void) => {
        const onEvent = (_e: string, r: { id: string }) => r.id === id && wake();
        this.requests.on('request', onEvent);
        return () => this.requests.off('request', onEvent);
      },
    };
    return this.logTails.follow(this.requests.logPath(id), source, from, reader, options);
  }

  /** Log streams open now (WebSocket subscriptions and HTTP streams), for /metrics. */
  get logFollowers(): number {
    return this.logTails.followers;
  }

  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.daemon?.stop();
    this.jobs.close();
    await this.executor.waitForShort(5000);
    await this.state.persist();
    this.requests.close();
    await this.options.backends.close();
  }
}
