// What the pages show, kept up to date from the WebSocket: requests (loaded once over HTTP, then
// merged with every event) and clusters with their jobs. Listeners are told at most once per frame.
import type { Cluster, Job, RequestSummary } from '../protocol/model';
import type { MeResponse } from '../protocol/dashboard';
import { api } from './api';
import type { LiveSession } from '../client/live-session';

/** How many finished requests the Requests page loads; older ones are reached by filtering. */
export const HISTORY_LIMIT = 10_000;

class Observable {
  private readonly listeners = new Set<() => void>();
  private frame = 0;
  version = 0;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected changed(): void {
    this.version++;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const l of this.listeners) l();
    });
  }
}

export class RequestsModel extends Observable {
  private readonly byId = new Map<string, RequestSummary>();
  private sortedCache: RequestSummary[] = [];
  private sortedVersion = -1;
  loaded = false;

  constructor(live: LiveSession) {
    super();
    live.onMessage((m) => {
      if (m.type === 'requests-snapshot') this.merge(m.requests);
      else if (m.type === 'request') this.merge([m.request]);
    });
    live.subscribeRequests();
  }

  async load(): Promise<void> {
    const { requests } = await api<{ requests: RequestSummary[] }>('GET', `/api/requests?all=1&limit=${HISTORY_LIMIT}`);
    this.merge(requests);
    this.loaded = true;
    this.changed();
  }

  merge(requests: RequestSummary[]): void {
    for (const r of requests) {
      const known = this.byId.get(r.id);
      // Events can overtake the initial load: never go back to an older state.
      if (!known || isNewer(r, known)) this.byId.set(r.id, r);
    }
    if (requests.length > 0) this.changed();
  }

  get(id: string): RequestSummary | undefined {
    return this.byId.get(id);
  }

  /** Newest first. */
  all(): RequestSummary[] {
    if (this.sortedVersion !== this.version) {
      this.sortedCache = [...this.byId.values()].sort((a, b) => b.createdAt - a.createdAt);
      this.sortedVersion = this.version;
    }
    return this.sortedCache;
  }
}

const rank = { PENDING: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 2, CANCELLED: 2 } as const;
function isNewer(a: RequestSummary, b: RequestSummary): boolean {
  return rank[a.status] > rank[b.status] || (rank[a.status] === rank[b.status] && (a.finishedAt ?? a.startedAt ?? 0) >= (b.finishedAt ?? b.startedAt ?? 0));
}

export class ClustersModel extends Observable {
  clusters: Cluster[] = [];
  /** Jobs by cluster, as events report them (the page loads each cluster's full list when opened). */
  readonly jobs = new Map<string, Map<number, Job>>();

  constructor(live: LiveSession) {
    super();
    live.onMessage((m) => {
      if (m.type === 'clusters-snapshot') {
        this.clusters = m.clusters;
        this.changed();
      } else if (m.type === 'cluster') {
        this.clusters = m.event === 'removed' ? this.clusters.filter((c) => c.name !== m.cluster.name) : upsert(this.clusters, m.cluster);
        this.changed();
      } else if (m.type === 'job') {
        this.addJobs(m.job.cluster, [m.job]);
      }
    });
    live.subscribeClusters();
  }

  addJobs(cluster: string, jobs: Job[]): void {
    let map = this.jobs.get(cluster);
    if (!map) this.jobs.set(cluster, (map = new Map()));
    for (const j of jobs) map.set(j.jobId, j);
    this.changed();
  }
}

function upsert(list: Cluster[], cluster: Cluster): Cluster[] {
  const i = list.findIndex((c) => c.name === cluster.name);
  return i < 0 ? [...list, cluster] : list.map((c, k) => (k === i ? cluster : c));
}

/** Whether `me` may cancel, stop or tear down what `owner` owns: the API's rule (the server checks again). */
export function mayActOn(me: MeResponse, owner: { id: string }): boolean {
  return me.role === 'admin' || me.user.id === owner.id;
}
