// The status-refresh daemon: one system request (user skydeck-system) that lives as long as the
// server and looks after clusters between requests. It stops clusters idle past their autostop
// (through an ordinary `stop` request, so the stop is visible and cancellable) and notes clusters
// whose infra has become unusable.
import { randomUUID } from 'node:crypto';
import { isRequestFinished, type User } from '../../protocol/model';
import type { Principal } from '../auth/identity';
import type { Core } from '../core';
import { isSupported } from '../infra/backend';
import { LogWriter } from '../logs/log-writer';
import { SYSTEM_USER_ID } from '../store/request-store';

export const SYSTEM_USER: User = { id: SYSTEM_USER_ID, name: 'skydeck-system' };
const SYSTEM: Principal = { user: SYSTEM_USER, role: 'admin' };

export class RefreshDaemon {
  private timer: NodeJS.Timeout | undefined;
  private requestId: string | undefined;
  private log: LogWriter | undefined;
  private ticking = false;

  constructor(
    private readonly core: Core,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    const id = randomUUID();
    const now = Date.now();
    await this.core.requests.create({
      id,
      name: 'status-refresh-daemon',
      status: 'RUNNING',
      user: SYSTEM_USER,
      schedule: 'short',
      body: { intervalSeconds: this.intervalMs / 1000 },
      statusMessage: `refreshing cluster state every ${this.intervalMs / 1000} s`,
      createdAt: now,
      startedAt: now,
    });
    this.requestId = id;
    this.log = new LogWriter(this.core.requests.logPath(id));
    this.log.line(`Status refresh daemon started; refreshing every ${this.intervalMs / 1000} s.`);
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass over every cluster. */
  async tick(now = Date.now()): Promise<void> {
    if (this.ticking || !this.requestId) return;
    const self = this.core.requests.summary(this.requestId);
    if (!self || isRequestFinished(self.status)) return this.halt(); // cancelled by an admin
    this.ticking = true;
    try {
      await this.autostop(now);
      await this.noteUnusableInfra();
    } catch (err) {
      this.log?.line(`refresh failed: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async autostop(now: number): Promise<void> {
    const { clusters, requests, executor } = this.core;
    for (const cluster of clusters.list()) {
      if (cluster.status !== 'UP' || cluster.autostop === undefined) continue;
      const down = cluster.autostopDown === true;
      if (!down && !isSupported(clusters.backendFor(cluster.infra).capabilities.stopStart)) continue;
      if (clusters.activeJobs(cluster.name).length > 0) continue;
      if (requests.live().some((r) => r.clusterName === cluster.name)) continue;
      const lastEnd = Math.max(cluster.launchedAt, ...clusters.jobs(cluster.name).map((j) => j.endedAt ?? 0));
      if (now - lastEnd < cluster.autostop * 60_000) continue;
      const request = await executor.submit(down ? 'down' : 'stop', { clusterName: cluster.name }, SYSTEM);
      this.log?.line(`Cluster ${cluster.name} idle for ${Math.round((now - lastEnd) / 60_000)} min (autostop ${cluster.autostop} min): ${down ? 'tearing it down' : 'stopping it'} (request ${request.id}).`);
    }
  }

  private async noteUnusableInfra(): Promise<void> {
    const { clusters, backends } = this.core;
    const statuses = await backends.check();
    for (const cluster of clusters.list()) {
      const infra = statuses.find((s) => s.infra === cluster.infra);
      const message = infra && !infra.enabled ? `infra ${cluster.infra} is not usable now: ${infra.reason ?? 'unknown reason'}` : undefined;
      const record = clusters.get(cluster.name);
      if (!record || record.statusMessage === message || (message === undefined && !record.statusMessage?.startsWith('infra '))) continue;
      await clusters.save({ ...record, statusMessage: message });
      if (message) this.log?.line(`Cluster ${cluster.name}: ${message}`);
    }
  }

  private halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends the daemon's request with the server. */
  async stop(): Promise<void> {
    this.halt();
    await this.log?.close();
    const id = this.requestId;
    if (id && !isRequestFinished(this.core.requests.summary(id)?.status ?? 'SUCCEEDED')) {
      await this.core.requests.update(id, { status: 'SUCCEEDED', finishedAt: Date.now() });
    }
  }
}
