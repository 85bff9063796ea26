// The requests the server reports, kept up to date from the WebSocket feed, and the view's filters.
import { isRequestFinished, type RequestSummary } from '../../protocol/model';
import { Emitter } from '../../client/event';

export interface RequestFilter {
  /** Finished requests too, not only PENDING and RUNNING ones. */
  showFinished: boolean;
  /** Everyone's requests, not only the current user's. */
  allUsers: boolean;
  /** How the view groups its rows (absent: flat). */
  grouping?: RequestGrouping;
}

export type RequestGrouping = 'flat' | 'cluster' | 'status';

/** One group of the view: its key (a cluster name, a status) and its requests, newest first. */
export interface RequestGroup {
  key: string;
  requests: RequestSummary[];
}

/** Requests with no cluster (api status, cancel...) are grouped under this key. */
export const NO_CLUSTER = '';
const STATUS_ORDER = ['RUNNING', 'PENDING', 'FAILED', 'CANCELLED', 'SUCCEEDED'];

/** What changed: `added`/`removed` reshape the list; `updated` only redraws those rows. */
export interface RequestsChange {
  added: string[];
  updated: string[];
  removed: string[];
}

/** Finished requests kept for the "all" view; the server's retention window bounds it too. */
const MAX_FINISHED = 500;

export class RequestsModel {
  private readonly byId = new Map<string, RequestSummary>();
  private readonly changed = new Emitter<RequestsChange>();
  readonly onDidChange = this.changed.event;
  filter: RequestFilter;
  /** The user id the server knows this client by; decides which requests are "mine". */
  userId: string | undefined;

  constructor(filter: RequestFilter = { showFinished: false, allUsers: false }) {
    this.filter = { ...filter };
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): RequestSummary | undefined {
    return this.byId.get(id);
  }

  isMine(request: RequestSummary): boolean {
    return this.userId !== undefined && request.user.id === this.userId;
  }

  /** Replaces everything with the server's snapshot (sent after each (re)subscription). */
  replaceAll(requests: readonly RequestSummary[]): void {
    const before = new Set(this.byId.keys());
    this.byId.clear();
    for (const r of requests) this.byId.set(r.id, r);
    const added = requests.map((r) => r.id).filter((id) => !before.has(id));
    const removed = [...before].filter((id) => !this.byId.has(id));
    const updated = requests.map((r) => r.id).filter((id) => before.has(id));
    this.prune(removed);
    this.changed.fire({ added, updated, removed });
  }

  /** Applies one `request` event; events for an older state than the one held are ignored. */
  upsert(request: RequestSummary): void {
    const known = this.byId.get(request.id);
    if (known && isRequestFinished(known.status) && !isRequestFinished(request.status)) return;
    this.byId.set(request.id, request);
    const removed: string[] = [];
    this.prune(removed);
    this.changed.fire({ added: known ? [] : [request.id], updated: known ? [request.id] : [], removed });
  }

  clear(): void {
    if (this.byId.size === 0) return;
    const removed = [...this.byId.keys()];
    this.byId.clear();
    this.changed.fire({ added: [], updated: [], removed });
  }

  setFilter(filter: Partial<RequestFilter>): void {
    this.filter = { ...this.filter, ...filter };
    this.changed.fire({ added: [], updated: [], removed: [] });
  }

  /** The requests the view shows under the current filter: newest first. */
  visible(): RequestSummary[] {
    return [...this.byId.values()]
      .filter((r) => this.filter.showFinished || !isRequestFinished(r.status))
      .filter((r) => this.filter.allUsers || this.userId === undefined || r.user.id === this.userId)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  /** The visible requests in groups: by cluster (by name, requests without one last) or by status (ongoing first). */
  groups(): RequestGroup[] {
    const by = this.filter.grouping ?? 'flat';
    const groups = new Map<string, RequestSummary[]>();
    for (const r of this.visible()) {
      const key = by === 'status' ? r.status : by === 'cluster' ? (r.clusterName ?? NO_CLUSTER) : '';
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const rank = (key: string) => (by === 'status' ? STATUS_ORDER.indexOf(key) : key === NO_CLUSTER ? 1 : 0);
    return [...groups].map(([key, requests]) => ({ key, requests })).sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
  }

  /** PENDING and RUNNING requests, whatever the filter says: what Cancel offers. */
  ongoing(): RequestSummary[] {
    return [...this.byId.values()].filter((r) => !isRequestFinished(r.status)).sort((a, b) => b.createdAt - a.createdAt);
  }

  all(): RequestSummary[] {
    return [...this.byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private prune(removed: string[]): void {
    const finished = [...this.byId.values()].filter((r) => isRequestFinished(r.status));
    if (finished.length <= MAX_FINISHED) return;
    finished.sort((a, b) => (a.finishedAt ?? a.createdAt) - (b.finishedAt ?? b.createdAt));
    for (const r of finished.slice(0, finished.length - MAX_FINISHED)) {
      this.byId.delete(r.id);
      removed.push(r.id);
    }
  }
}
