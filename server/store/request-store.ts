// Requests, live and finished, behind one interface: lookups by id or unique prefix, listings,
// and an event for every change so the WebSocket hub and metrics never poll.
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { REQUEST_ID_PREFIX } from '../../protocol/api';
import { isRequestFinished, summarize, type ApiRequest, type RequestFields, type RequestStatus, type RequestSummary } from '../../protocol/model';
import { fail } from '../errors';
import { isStoreWriteFailure } from './durable-file';
import type { RequestHistory } from './history';
import type { LiveRequest, RequestJournal } from './request-journal';

export type { LiveRequest };

export interface RequestFilter {
  all?: boolean;
  userId?: string;
  status?: RequestStatus;
  cluster?: string;
  limit?: number;
  /** Include the server's own long-lived system requests (the status-refresh daemon). */
  includeSystem?: boolean;
}

/** The user the server's own requests run as. */
export const SYSTEM_USER_ID = '00000001';

export interface RequestEvents {
  request: [event: 'created' | 'updated', request: RequestSummary];
}

/** What an update may change: a request's progress and outcome, never its operation or body. */
export type RequestPatch = Partial<Omit<RequestFields, 'id' | 'user' | 'schedule'>> & { result?: ApiRequest['result'] } & Pick<LiveRequest, 'logHeaderBytes' | 'jobLogCopy'>;

export class RequestStore extends EventEmitter<RequestEvents> {
  constructor(
    private readonly journal: RequestJournal,
    private readonly history: RequestHistory,
    readonly logDir: string,
    private readonly logWriteFailure: (message: string) => void = () => undefined,
  ) {
    super();
    // A fan-out by design: every WebSocket subscription and every followed log listens here.
    this.setMaxListeners(0);
    // A crash between "appended to history" and "removed from the journal" leaves a request in both.
    for (const id of [...journal.ids()]) if (history.has(id)) this.dropFromJournal(id);
  }

  private dropFromJournal(id: string): void {
    try {
      this.journal.remove(id);
    } catch (err) {
      if (!isStoreWriteFailure(err)) throw err;
    }
  }

  logPath(id: string): string {
    return path.join(this.logDir, `${id}.log`);
  }

  get historySize(): number {
    return this.history.size;
  }

  live(): LiveRequest[] {
    return [...this.journal.values()];
  }

  /**
   * Records a new request; it is on disk when this returns. When the disk refuses it (full), a long
   * request is refused (507: it would start work a restart could not find again); a short one runs
   * from memory, so status, queue, stop and down still work on a full disk.
   */
  create(request: ApiRequest): void {
    try {
      this.journal.put(request);
    } catch (err) {
      if (!isStoreWriteFailure(err) || request.schedule === 'long') {
        this.journal.forget(request.id);
        throw err;
      }
      this.onWriteFailure(err);
    }
    this.emit('request', 'created', summarize(request));
  }

  /**
   * Changes a live request; finishing moves it to history. On disk when the promise settles, unless
   * the disk refuses it: then the change holds in memory (the request stays correct while this
   * server runs) and the failure is reported once to the server log, never to the request's caller.
   */
  async update(id: string, patch: RequestPatch): Promise<LiveRequest> {
    const current = this.journal.get(id);
    if (!current) throw fail.conflict(`request ${id} has already finished`);
    // The patch never changes the operation or its body, so the request stays the member it was.
    const next = { ...current, ...patch } as LiveRequest;
    try {
      if (isRequestFinished(next.status)) {
        next.finishedAt ??= Date.now();
        delete next.statusMessage;
        delete next.logHeaderBytes;
        delete next.jobLogCopy;
        delete next.idempotencyKey;
        try {
          this.history.append(next);
        } finally {
          this.journal.remove(id);
        }
      } else {
        this.journal.put(next);
      }
    } catch (err) {
      if (!isStoreWriteFailure(err)) throw err;
      this.onWriteFailure(err);
    }
    this.emit('request', 'updated', summarize(next));
    return next;
  }

  private lastWriteFailure = 0;

  /** Store writes the disk refused: logged at most once a minute, so a full disk does not flood the log. */
  private onWriteFailure(err: Error): void {
    if (Date.now() - this.lastWriteFailure < 60_000) return;
    this.lastWriteFailure = Date.now();
    this.logWriteFailure(err.message);
  }

  /** Full id from an id or a unique prefix of one. */
  resolveId(idOrPrefix: string): string {
    const key = idOrPrefix.toLowerCase();
    if (!REQUEST_ID_PREFIX.test(key)) throw fail.bad_request(`'${idOrPrefix.slice(0, 64)}' is not a request id or id prefix`);
    if (this.journal.get(key) || this.history.has(key)) return key;
    const matches: string[] = [];
    for (const id of this.journal.ids()) if (id.startsWith(key)) matches.push(id);
    for (const id of this.history.ids()) if (id.startsWith(key) && matches.length < 5) matches.push(id);
    if (matches.length === 0) throw fail.not_found(`no request with id ${key}`);
    if (matches.length > 1) throw fail.ambiguous_id(`id prefix ${key} matches several requests (${matches.map((m) => m.slice(0, 12)).join(', ')}...); give more characters`);
    return matches[0]!;
  }

  get(id: string): LiveRequest | undefined {
    return this.journal.get(id) ?? this.history.get(id);
  }

  summary(id: string): RequestSummary | undefined {
    const live = this.journal.get(id);
    return live ? summarize(live) : this.history.summary(id);
  }

  list(filter: RequestFilter = {}): RequestSummary[] {
    const keep = (r: RequestSummary) =>
      (filter.includeSystem || filter.userId !== undefined || r.user.id !== SYSTEM_USER_ID) &&
      (filter.userId === undefined || r.user.id === filter.userId) &&
      (filter.status === undefined || r.status === filter.status) &&
      (filter.cluster === undefined || r.clusterName === filter.cluster);
    const out = this.live().map(summarize).filter(keep);
    if (filter.all || (filter.status !== undefined && isRequestFinished(filter.status))) {
      for (const s of this.history.summaries()) if (keep(s)) out.push(s);
    }
    out.sort((a, b) => b.createdAt - a.createdAt);
    return filter.limit === undefined ? out : out.slice(0, filter.limit);
  }

  close(): void {
    this.journal.close();
    this.history.close();
  }

  /** Removes finished requests past retention, with their logs. */
  async expire(now: number, retentionMs: number): Promise<number> {
    const removed = this.history.expire(now, retentionMs);
    await Promise.all(removed.map((id) => rm(this.logPath(id), { force: true })));
    return removed.length;
  }
}
