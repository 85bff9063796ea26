// The local API server: start it detached when nothing answers (once, under a lock), and stop it by its pid.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import type { ApiClient } from './api-client';
import { ClientError, ConnectionError } from './errors';
import { homePaths } from './home';
import { isProcessAlive, tryLock } from './start-lock';

/** What the server writes to `<data-dir>/server.json` once it listens. */
export interface ServerInfo {
  pid: number;
  host: string;
  port: number;
  url: string;
  version: string;
  startedAt: number;
}

export interface LocalServerOptions {
  home: string;
  /** The bundled server program (dist/server.js). */
  serverScript: string;
  /** What runs it: process.execPath by default; the extension passes its own runtime. */
  runtime?: string;
  /** Extra environment for the server, such as ELECTRON_RUN_AS_NODE=1 under VS Code. */
  env?: Record<string, string>;
  /** How long to wait for the new server to answer. */
  startTimeoutMs?: number;
  /** Progress for the user ("Starting the local API server..."). */
  onProgress?: (message: string) => void;
}

const PROBE_TIMEOUT_MS = 1_000;
const POLL_MS = 50;

/**
 * Makes sure a server answers at the client's endpoint. A local endpoint with nothing behind it gets a server
 * started; a remote one that does not answer is an error. Resolves true when this call started the server.
 */
export function ensureServer(client: ApiClient, options: LocalServerOptions): Promise<boolean> {
  return ensureServerSoon(client, options)();
}

/**
 * ensureServer in two steps: the probe is sent now, and the returned function waits for its answer (starting
 * the server if nothing answered). What the caller does in between overlaps the probe's round trip.
 */
export function ensureServerSoon(client: ApiClient, options: LocalServerOptions): () => Promise<boolean> {
  const probe = client.health(PROBE_TIMEOUT_MS).then(
    () => undefined,
    (err: unknown) => err,
  );
  return async () => {
    const err = await probe;
    if (err === undefined) return false;
    if (!(err instanceof ConnectionError) || !client.endpoint.local) throw err;
    return startLocalServer(client, options);
  };
}

/** Starts the local server unless one already answers; resolves true when this call started it. */
export async function startLocalServer(client: ApiClient, options: LocalServerOptions): Promise<boolean> {
  if (!client.endpoint.local) {
    throw new ClientError('not_local', `the API server at ${client.endpoint.url} is not on this machine; start it where it runs`);
  }
  const paths = homePaths(options.home);
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  let announced = false;
  while (Date.now() < deadline) {
    const lock = tryLock(paths.startLock);
    if (lock) {
      try {
        // Someone may have started it between our probe and taking the lock.
        if (await answers(client)) return false;
        refuseSecondServer(client, options.home);
        options.onProgress?.(`Starting the local SkyDeck API server at ${client.endpoint.url} (log: ${paths.serverLog})`);
        await spawnAndWait(client, options, deadline);
        return true;
      } finally {
        lock.release();
      }
    }
    if (!announced) {
      options.onProgress?.('Waiting for the local SkyDeck API server that another client is starting...');
      announced = true;
    }
    if (await answers(client)) return false;
    await sleep(POLL_MS);
  }
  throw new ClientError('server_start_timeout', `the local API server did not answer at ${client.endpoint.url} in time; see ${paths.serverLog}`);
}

/**
 * One data dir, one server: if this SKYDECK_HOME's server is alive on another port than the endpoint names,
 * starting a second one would have two processes owning the same store.
 */
function refuseSecondServer(client: ApiClient, home: string): void {
  const running = readServerInfo(home);
  if (!running || !isProcessAlive(running.pid)) return;
  throw new ClientError(
    'server_elsewhere',
    `the SkyDeck API server of ${home} is already running at ${running.url} (pid ${running.pid}), not at ${client.endpoint.url}; ` +
      `use its endpoint (SKYDECK_API_SERVER_ENDPOINT=${running.url}) or stop it first (SKYDECK_API_SERVER_ENDPOINT=${running.url} skydeck api stop)`,
  );
}

async function spawnAndWait(client: ApiClient, options: LocalServerOptions, deadline: number): Promise<void> {
  const paths = homePaths(options.home);
  mkdirSync(paths.serverDir, { recursive: true });
  const url = new URL(client.endpoint.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const log = openSync(paths.serverLog, 'a', 0o600);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    // Detached in its own session with its output in a file, so it outlives this client and its terminal.
    const child = spawn(options.runtime ?? process.execPath, [options.serverScript, '--host', host, '--port', port, '--data-dir', paths.serverDir], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...options.env },
      windowsHide: true,
    });
    child.on('error', () => (exited = { code: null, signal: null }));
    child.on('exit', (code, signal) => (exited = { code, signal }));
    child.unref();
  } finally {
    closeSync(log);
  }
  while (Date.now() < deadline) {
    if (exited) {
      const how = exited.signal ? `was killed by ${exited.signal}` : exited.code === null ? 'could not be started' : `exited with code ${exited.code}`;
      throw new ClientError('server_start_failed', `the local API server ${how}; last lines of ${paths.serverLog}:\n${lastLines(paths.serverLog, 10)}`);
    }
    if (await answers(client)) return;
    await sleep(POLL_MS);
  }
  throw new ClientError('server_start_timeout', `the local API server did not answer at ${client.endpoint.url} in time; see ${paths.serverLog}`);
}

async function answers(client: ApiClient): Promise<boolean> {
  try {
    await client.health(PROBE_TIMEOUT_MS);
    return true;
  } catch (err) {
    if (err instanceof ConnectionError) return false;
    throw err;
  }
}

export function readServerInfo(home: string): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(homePaths(home).serverInfo, 'utf8')) as ServerInfo;
    return Number.isInteger(info.pid) && info.pid > 0 ? info : undefined;
  } catch {
    return undefined;
  }
}

export interface StopResult {
  /** The pid that was stopped; undefined when no local server was running. */
  pid?: number;
  url?: string;
}

/**
 * Stops the local server recorded in SKYDECK_HOME/server/server.json: SIGTERM (a graceful stop), then SIGKILL
 * if it has not exited in time. Refuses a pid that no longer looks like that server.
 */
export async function stopLocalServer(client: ApiClient, home: string, timeoutMs = 10_000): Promise<StopResult> {
  if (!client.endpoint.local) {
    throw new ClientError('not_local', `the API server at ${client.endpoint.url} is not on this machine; stop it where it runs`);
  }
  const paths = homePaths(home);
  const info = readServerInfo(home);
  if (!info || !isProcessAlive(info.pid)) {
    rmSync(paths.serverInfo, { force: true });
    return {};
  }
  const url = new URL(client.endpoint.url);
  if (String(info.port) !== (url.port || '80')) {
    throw new ClientError('not_local', `the local server recorded in ${paths.serverInfo} listens on ${info.url}, not on the endpoint ${client.endpoint.url}`);
  }
  if (!(await isThatServer(client, info))) {
    rmSync(paths.serverInfo, { force: true });
    return {};
  }
  signal(info.pid, 'SIGTERM');
  if (!(await exitedWithin(info.pid, timeoutMs))) {
    signal(info.pid, 'SIGKILL');
    await exitedWithin(info.pid, 2_000);
  }
  rmSync(paths.serverInfo, { force: true });
  return { pid: info.pid, url: info.url };
}

/**
 * Guards against a reused pid after a crash: the server at the endpoint must have started when server.json says,
 * or, if it does not answer, the process must be running a server script.
 */
async function isThatServer(client: ApiClient, info: ServerInfo): Promise<boolean> {
  try {
    const health = await client.health(PROBE_TIMEOUT_MS);
    return health.startedAt === undefined || health.startedAt === info.startedAt;
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
  }
  try {
    return readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').includes('server');
  } catch {
    return true;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function exitedWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(POLL_MS);
  }
  return !isProcessAlive(pid);
}

function lastLines(path: string, count: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
