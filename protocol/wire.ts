// Wire constants every side shares: endpoint defaults, headers, id patterns, heartbeats. No schemas here:
// importing this file must stay cheap for the CLI and the extension's activation.

export const API_VERSION = 1;
export const DEFAULT_PORT = 46590;
export const DEFAULT_ENDPOINT = `http://127.0.0.1:${DEFAULT_PORT}`;

/** Headers a client sends to say who it is; an authenticated server ignores them. */
export const USER_ID_HEADER = 'x-skydeck-user-id';
export const USER_NAME_HEADER = 'x-skydeck-user-name';
/**
 * A submit's idempotency key: a client that lost the connection before the answer sends the same
 * submit again with the same key, and the server answers with the request the first one created.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;
/** How long a server remembers a key. */
export const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
/** How long a WebSocket or stream may stay silent before the server sends a heartbeat. */
export const HEARTBEAT_MS = 15_000;

export const USER_ID = /^[0-9a-f]{8}$/;
export const CLUSTER_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** A request id or a prefix of one: hex digits and dashes, nothing that could name a path. */
export const REQUEST_ID_PREFIX = /^[0-9a-f][0-9a-f-]{0,35}$/;

/** Written into a quiet log stream every HEARTBEAT_MS; clients drop it. */
export const STREAM_HEARTBEAT = '\0';
