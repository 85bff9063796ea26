// The error catalogue: every code the server answers with (HTTP `{error: {code, message, details}}`,
// a request's `error.type`, a WebSocket `error` message), what it means and its HTTP status. The
// server maps codes to statuses here and nowhere else; clients branch on codes, never on messages.
// Node-free and zod-free, so any side (webview included) can import it.
import type { TaskIssue } from './task-issues';

export const ERROR_CODES = {
  // ---- the request itself ----
  bad_request: { status: 400, meaning: 'the body, query string or a header is malformed; details name each field' },
  task_invalid: { status: 400, meaning: 'the task does not validate; details list each key path (relative to the body) and why' },
  ambiguous_id: { status: 400, meaning: 'a request id prefix matches several requests' },
  upload_missing: { status: 400, meaning: 'the task names an upload this server no longer has (expired or never sent)' },
  body_too_large: { status: 413, meaning: 'the request body or upload is over the limit' },
  unsupported_media_type: { status: 415, meaning: 'the body is not sent in the type the route takes' },
  request_timeout: { status: 408, meaning: 'the body did not arrive in time' },
  not_found: { status: 404, meaning: 'no such route, request, cluster or job' },
  method_not_allowed: { status: 405, meaning: 'the route exists but not for this method' },
  conflict: { status: 409, meaning: 'the request has already finished, or the state no longer allows the change' },
  // ---- who is asking ----
  unauthorized: { status: 401, meaning: 'credentials are missing or wrong' },
  forbidden: { status: 403, meaning: 'the caller may not do this (not the owner, not an admin)' },
  host_not_allowed: { status: 403, meaning: 'a local server answers only to loopback Host names (DNS-rebinding guard)' },
  cross_origin: { status: 403, meaning: 'requests from other web sites are refused' },
  too_many_attempts: { status: 429, meaning: 'too many failed logins from this address; details say when to retry' },
  too_many_connections: { status: 429, meaning: 'too many connections, requests in flight or WebSocket connections from this client' },
  // ---- infra and clusters ----
  infra_not_enabled: { status: 400, meaning: 'the task names infra this server does not have enabled' },
  resources_unavailable: { status: 400, meaning: 'no enabled infra can hold what the task asks for; details give the reason per infra' },
  not_supported: { status: 400, meaning: "the cluster's infra cannot do this (stop or start SSH hosts or Slurm allocations)" },
  ssh_config_invalid: { status: 400, meaning: 'the SSH node pool file is not usable' },
  ssh_pool_unknown: { status: 400, meaning: 'no SSH node pool by that name' },
  slurm_config_invalid: { status: 400, meaning: 'the Slurm configuration is not usable' },
  bad_placement: { status: 400, meaning: 'a placement names something its infra does not have' },
  image_unavailable: { status: 400, meaning: "the task's container image cannot be had on a node (no container runtime, or the image is not there and cannot be pulled); the message names the image and the node" },
  infra_failed: { status: 502, meaning: 'the infra failed doing the work (an SSH command, a Slurm call); the message names where' },
  cluster_not_up: { status: 409, meaning: 'the cluster is not UP; start it first' },
  cluster_mismatch: { status: 409, meaning: 'the cluster exists with other nodes or infra than the task asks for' },
  // ---- how a request ended (request.error.type) ----
  job_failed: { status: 422, meaning: "the task's job ran and failed; the request's result says how" },
  job_cancelled: { status: 409, meaning: "the task's job was cancelled while the request followed it" },
  job_start_failed: { status: 500, meaning: 'the job could not be started on its cluster' },
  server_restarted: { status: 503, meaning: 'the server restarted while the request was pending or running and could not pick it up again' },
  request_cancelled: { status: 409, meaning: 'the request was cancelled' },
  // ---- WebSocket messages ----
  bad_message: { status: 400, meaning: 'a WebSocket message is not JSON or not a known message' },
  duplicate_sub: { status: 409, meaning: 'a WebSocket subscription id is already in use on this connection' },
  too_many_subscriptions: { status: 429, meaning: 'too many log streams on one WebSocket connection' },
  too_slow: { status: 429, meaning: 'a WebSocket client left too much of what it was sent unread; it is dropped and reconnects to a fresh snapshot' },
  shell_failed: { status: 502, meaning: "a terminal's shell could not be started on the node; the message says why" },
  shell_ended: { status: 409, meaning: 'the server ended a terminal: its cluster was torn down or stopped, or the server is shutting down' },
  // ---- the server itself ----
  config_invalid: { status: 500, meaning: "the server's own settings are not usable (flags, accounts files, data dir, local token, sockets); at startup it exits with status 2 and this message" },
  insufficient_storage: { status: 507, meaning: 'the disk holding the data dir refused the write (full, read-only); nothing was recorded' },
  // ---- anything else ----
  internal: { status: 500, meaning: 'an unexpected server error; the server log has the details' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** A field a body or query string got wrong: `path` is dotted from the body's root. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Codes whose `details` have a shape; every other code has none. */
export interface ErrorDetailsByCode {
  bad_request: FieldIssue[];
  /** Paths are relative to the request body: `task.resources.cpus`. */
  task_invalid: TaskIssue[];
  resources_unavailable: { refusals: { infra: string; reason: string }[] };
  too_many_attempts: { retryAfterSeconds: number };
}

export type ErrorDetails<C extends ErrorCode> = C extends keyof ErrorDetailsByCode ? ErrorDetailsByCode[C] : never;

/** The one shape of every error answer. */
export interface ErrorResponse<C extends ErrorCode = ErrorCode> {
  error: { code: C; message: string; details?: ErrorDetails<C> };
}
