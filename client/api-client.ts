// The API client: every call a CLI or an editor makes to the SkyDeck API server.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type {
  CancelResponse,
  ClusterListResponse,
  HealthResponse,
  InfraListResponse,
  OperationBody,
  OperationName,
  PlanResponse,
  QueueResult,
  RequestListResponse,
  SubmitResponse,
} from '../protocol/api';
import { IDEMPOTENCY_KEY_HEADER, STREAM_HEARTBEAT, USER_ID_HEADER, USER_NAME_HEADER } from '../protocol/wire';
import { VERSION } from '../protocol/build-info';
import { isRequestFinished, type ApiRequest, type RequestStatus, type RequestSummary, type User } from '../protocol/model';
import type { Task } from '../protocol/task';
import type { UploadResponse } from '../protocol/upload';
import type { ManagedJob, ManagedJobListResponse } from '../protocol/jobs';
import type { AccountChangeResponse, AccountRole, DashboardLink, MeResponse, TokenCreatedResponse, TokenListResponse, UserListResponse } from '../protocol/dashboard';
import { streamLink } from './auth/stream-link';
import type { Endpoint } from './endpoint';
import { ConnectionError } from './errors';
import { HttpTransport, isAbort } from './http';

export interface ApiClientOptions {
  endpoint: Endpoint;
  user: User;
  /** Sent as User-Agent, such as `skydeck-cli` or `skydeck-vscode`. */
  agent?: string;
  /** How long a plain call may take before it counts as unreachable. */
  timeoutMs?: number;
}

export interface ListRequestsOptions {
  /** Include finished requests. */
  all?: boolean;
  /** Only this user's (8-hex id). */
  user?: string;
  status?: RequestStatus;
  cluster?: string;
  limit?: number;
}

export interface StreamLogOptions {
  /** Keep streaming until the request finishes (default true). */
  follow?: boolean;
  /** Start this many lines from the end instead of at the beginning. */
  tail?: number;
  signal?: AbortSignal;
}

/** Before the one retry of a submit whose connection dropped: long enough for a restarting local server. */
const SUBMIT_RETRY_DELAY_MS = 1000;

/** A connection that broke after the call may have reached the server (not one that never connected). */
function droppedMidCall(err: ConnectionError): boolean {
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || err.cause?.message === 'socket hang up';
}

/** Longest long-poll asked of the server in one call; waitForRequest repeats it. */
const MAX_WAIT_SECONDS = 30;

export class ApiClient {
  readonly endpoint: Endpoint;
  readonly user: User;
  /** Identity, auth and agent headers every call carries (the WebSocket too). */
  readonly headers: Readonly<Record<string, string>>;
  private readonly http: HttpTransport;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint;
    this.user = options.user;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const headers: Record<string, string> = {
      [USER_ID_HEADER]: options.user.id,
      [USER_NAME_HEADER]: headerSafeUserName(options.user.name),
      'user-agent': `${options.agent ?? 'skydeck-client'}/${VERSION}`,
    };
    if (options.endpoint.authorization) headers.authorization = options.endpoint.authorization;
    this.headers = headers;
    this.http = new HttpTransport(options.endpoint.url, headers, options.endpoint.localSocket);
  }

  health(timeoutMs = this.timeoutMs): Promise<HealthResponse> {
    return this.http.json({ method: 'GET', path: '/api/health', timeoutMs });
  }

  /**
   * Submits an operation; resolves with the new request's id as soon as the server has queued it.
   * The submit carries an idempotency key: when the connection drops before the answer (the server
   * may or may not have recorded it), it is sent once more with the same key, and a server that had
   * recorded it answers with that request instead of running the work twice.
   */
  async submit<N extends OperationName>(operation: N, body: OperationBody<N>): Promise<string> {
    const call = { method: 'POST' as const, path: `/api/v1/${operation}`, body, timeoutMs: this.timeoutMs, headers: { [IDEMPOTENCY_KEY_HEADER]: randomUUID() } };
    try {
      return (await this.http.json<SubmitResponse>(call)).requestId;
    } catch (err) {
      if (!(err instanceof ConnectionError) || !droppedMidCall(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, SUBMIT_RETRY_DELAY_MS));
      return (await this.http.json<SubmitResponse>(call)).requestId;
    }
  }

  /** One request by id or unique prefix; with waitSeconds the server holds the answer until it finishes or the time is up. */
  getRequest(idOrPrefix: string, options: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<ApiRequest> {
    return this.http.json({
      method: 'GET',
      path: `/api/requests/${encodeURIComponent(idOrPrefix)}`,
      query: { wait: options.waitSeconds },
      timeoutMs: this.timeoutMs + (options.waitSeconds ?? 0) * 1000,
      signal: options.signal,
    });
  }

  /** Long-polls until the request has finished. */
  async waitForRequest(idOrPrefix: string, signal?: AbortSignal): Promise<ApiRequest> {
    while (true) {
      signal?.throwIfAborted();
      const request = await this.getRequest(idOrPrefix, { waitSeconds: MAX_WAIT_SECONDS, signal });
      if (isRequestFinished(request.status)) return request;
    }
  }

  async listRequests(options: ListRequestsOptions = {}): Promise<RequestSummary[]> {
    const answer = await this.http.json<RequestListResponse>({
      method: 'GET',
      path: '/api/requests',
      query: { all: options.all, user: options.user, status: options.status, cluster: options.cluster, limit: options.limit },
      timeoutMs: this.timeoutMs,
    });
    return answer.requests;
  }

  /** Cancels requests by id or prefix; resolves with the ids actually cancelled. */
  async cancel(target: { requestIds: string[] } | { all: true; allUsers?: boolean }): Promise<string[]> {
    const answer = await this.http.json<CancelResponse>({ method: 'POST', path: '/api/cancel', body: target, timeoutMs: this.timeoutMs });
    return answer.cancelled;
  }

  async clusters(): Promise<ClusterListResponse['clusters']> {
    return (await this.http.json<ClusterListResponse>({ method: 'GET', path: '/api/clusters', timeoutMs: this.timeoutMs })).clusters;
  }

  async jobs(clusterName: string): Promise<QueueResult['jobs']> {
    const path = `/api/clusters/${encodeURIComponent(clusterName)}/jobs`;
    return (await this.http.json<QueueResult>({ method: 'GET', path, timeoutMs: this.timeoutMs })).jobs;
  }

  /** Managed jobs, newest first: the caller's, or everyone's (admins) with allUsers. A direct read, no request. */
  async managedJobs(options: { allUsers?: boolean } = {}): Promise<ManagedJob[]> {
    return (await this.http.json<ManagedJobListResponse>({ method: 'GET', path: '/api/jobs', query: { all_users: options.allUsers ? '1' : undefined }, timeoutMs: this.timeoutMs })).jobs;
  }

  /** Sends a bundle of task files (protocol/upload.ts); resolves with the id tasks name it by. */
  async upload(bundle: Buffer): Promise<string> {
    return (await this.http.json<UploadResponse>({ method: 'POST', path: '/api/uploads', raw: { contentType: 'application/gzip', data: bundle }, timeoutMs: 10 * this.timeoutMs })).uploadId;
  }

  /**
   * Where a launch of `task` would run, before submitting it: the considered placements and the chosen
   * one, or (a 400 `resources_unavailable`) why no enabled infra can hold it.
   */
  async plan(task: Task, clusterName?: string): Promise<PlanResponse> {
    return this.http.json<PlanResponse>({ method: 'POST', path: '/api/plan', body: { task, clusterName }, timeoutMs: this.timeoutMs });
  }

  async infra(): Promise<InfraListResponse['infra']> {
    return (await this.http.json<InfraListResponse>({ method: 'GET', path: '/api/infra', timeoutMs: this.timeoutMs })).infra;
  }

  /** Who the server says the caller is, with their role. */
  me(): Promise<MeResponse> {
    return this.http.json({ method: 'GET', path: '/api/me', timeoutMs: this.timeoutMs });
  }

  /** A one-time link (valid for seconds) that signs a browser in to the dashboard as this caller. */
  async dashboardLink(): Promise<string> {
    const link = await this.http.json<DashboardLink>({ method: 'POST', path: '/api/sessions/links', timeoutMs: this.timeoutMs });
    return this.endpoint.url + link.path;
  }

  /** A team server's accounts, for admins (the server refuses everyone else). */
  readonly accounts = {
    users: () => this.http.json<UserListResponse>({ method: 'GET', path: '/api/admin/users', timeoutMs: this.timeoutMs }),
    addUser: (body: { name: string; role: AccountRole; password?: string }) => this.http.json<AccountChangeResponse>({ method: 'POST', path: '/api/admin/users', body, timeoutMs: this.timeoutMs }),
    changeUser: (name: string, body: { role?: AccountRole; password?: string; generatePassword?: true }) =>
      this.http.json<AccountChangeResponse>({ method: 'POST', path: `/api/admin/users/${encodeURIComponent(name)}`, body, timeoutMs: this.timeoutMs }),
    removeUser: (name: string) => this.http.json<AccountChangeResponse>({ method: 'DELETE', path: `/api/admin/users/${encodeURIComponent(name)}`, timeoutMs: this.timeoutMs }),
    tokens: () => this.http.json<TokenListResponse>({ method: 'GET', path: '/api/admin/tokens', timeoutMs: this.timeoutMs }),
    createToken: (body: { name: string; role: AccountRole; expiresInDays?: number }) => this.http.json<TokenCreatedResponse>({ method: 'POST', path: '/api/admin/tokens', body, timeoutMs: this.timeoutMs }),
    revokeToken: (idOrName: string) => this.http.json<AccountChangeResponse>({ method: 'DELETE', path: `/api/admin/tokens/${encodeURIComponent(idOrName)}`, timeoutMs: this.timeoutMs }),
  };

  /** Where a browser follows a request's log live. Never carries credentials (at most a signature for that one log). */
  streamUrl(requestId: string): string {
    return streamLink(this.endpoint, requestId);
  }

  /**
   * A request's log as text chunks, as the server writes them. Heartbeats are dropped. Following ends when
   * the request finishes; aborting the signal ends the iteration quietly.
   */
  async *streamLog(requestId: string, options: StreamLogOptions = {}): AsyncGenerator<string, void, undefined> {
    const follow = options.follow ?? true;
    let response;
    try {
      response = await this.http.open({
        method: 'GET',
        path: '/api/stream',
        query: { request_id: requestId, follow: follow ? '1' : '0', tail: options.tail, format: 'plain' },
        headers: { accept: 'text/plain' },
        timeoutMs: this.timeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      if (isAbort(err)) return;
      throw err;
    }
    const decoder = new StringDecoder('utf8');
    try {
      for await (const chunk of response) {
        const text = decoder.write(chunk as Buffer).replaceAll(STREAM_HEARTBEAT, '');
        if (text) yield text;
      }
    } catch (err) {
      // Aborting mid-stream surfaces as a reset connection; the caller asked for it, so it is not an error.
      if (isAbort(err) || options.signal?.aborted) return;
      throw new ConnectionError(this.endpoint.url, err as Error);
    } finally {
      response.destroy();
    }
    const rest = decoder.end().replaceAll(STREAM_HEARTBEAT, '');
    if (rest) yield rest;
  }

  /** Frees the kept-alive connections. */
  close(): void {
    this.http.close();
  }
}

/**
 * Header values must be ASCII, and the server accepts names of letters, digits, space and . _ @ - (at most 64):
 * accents are dropped (josé -> jose) and anything else becomes _.
 */
export function headerSafeUserName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const safe = ascii.replace(/[^A-Za-z0-9 ._@-]/g, '_').trim().slice(0, 64);
  return safe || 'user';
}
