// HTTP calls to the API server: health, submit, requests, cancel, clusters, jobs, infra and log streams.
// TODO(client): client/ will own these calls; this seam moves there once it lands.
import { USER_ID_HEADER, USER_NAME_HEADER } from '../../protocol/api';
import type {
  CancelResponse,
  ClusterListResponse,
  ErrorResponse,
  HealthResponse,
  InfraListResponse,
  OperationBody,
  OperationName,
  QueueResult,
  RequestListResponse,
  SubmitResponse,
} from '../../protocol/api';
import type { ApiRequest, User } from '../../protocol/model';

/** How a call failed: `status` is the HTTP status (0 when the server did not answer). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get unreachable(): boolean {
    return this.status === 0;
  }

  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export type Credentials = { kind: 'basic'; user: string; password: string } | { kind: 'token'; token: string };

export interface ApiClientOptions {
  endpoint: string;
  identity: User;
  credentials?: Credentials;
  /** Per-call timeout for calls that do not stream. */
  timeoutMs?: number;
}

export class ApiClient {
  readonly endpoint: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.headers = authHeaders(options.identity, options.credentials);
  }

  /** Headers for any connection to this server, the WebSocket included. */
  get connectionHeaders(): Record<string, string> {
    return { ...this.headers };
  }

  health(timeoutMs = 2000): Promise<HealthResponse> {
    return this.json('GET', '/api/health', undefined, timeoutMs);
  }

  async submit<N extends OperationName>(operation: N, body: OperationBody<N>): Promise<string> {
    const answer = await this.json<SubmitResponse>('POST', `/api/v1/${operation}`, body);
    return answer.requestId;
  }

  request(id: string): Promise<ApiRequest> {
    return this.json('GET', `/api/requests/${encodeURIComponent(id)}`);
  }

  async listRequests(all: boolean): Promise<RequestListResponse> {
    return this.json('GET', `/api/requests${all ? '?all=1' : ''}`);
  }

  cancel(requestIds: string[]): Promise<CancelResponse> {
    return this.json('POST', '/api/cancel', { requestIds });
  }

  async clusters(): Promise<ClusterListResponse> {
    return this.json('GET', '/api/clusters');
  }

  jobs(cluster: string): Promise<QueueResult> {
    return this.json('GET', `/api/clusters/${encodeURIComponent(cluster)}/jobs`);
  }

  infra(): Promise<InfraListResponse> {
    return this.json('GET', '/api/infra');
  }

  /** The browser page that follows a request's log live. */
  streamPageUrl(requestId: string): string {
    return `${this.endpoint}/api/stream?request_id=${encodeURIComponent(requestId)}`;
  }

  private async json<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.endpoint + path, {
        method,
        headers: { ...this.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }), accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new ApiError(0, 'Unreachable', `cannot reach ${this.endpoint} (${cause})`);
    }
    const text = await response.text();
    if (!response.ok) {
      let error: ErrorResponse['error'] | undefined;
      try {
        error = (JSON.parse(text) as ErrorResponse).error;
      } catch {
        // not our JSON (a proxy in between): fall back to the status line
      }
      throw new ApiError(response.status, error?.code ?? `HTTP${response.status}`, error?.message ?? `${response.status} ${response.statusText}`, error?.details);
    }
    return JSON.parse(text) as T;
  }
}

export function authHeaders(identity: User, credentials?: Credentials): Record<string, string> {
  const headers: Record<string, string> = { [USER_ID_HEADER]: identity.id, [USER_NAME_HEADER]: identity.name };
  if (credentials?.kind === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  } else if (credentials?.kind === 'token') {
    headers.authorization = `Bearer ${credentials.token}`;
  }
  return headers;
}
