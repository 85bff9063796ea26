// Starts the real API server (dist/server.js) on a free loopback port with its own SKYDECK_HOME,
// and talks to it over HTTP. Every server started here is killed and its home removed by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiRequest } from '../../protocol/model';

export const SERVER_JS = path.resolve(__dirname, '../../dist/server.js');

export interface TestServer {
  url: string;
  home: string;
  dataDir: string;
  process: ChildProcess;
  /** Output the server printed so far (for failure messages). */
  output(): string;
  /** Headers every call needs: identity, and the local token once the server writes one. */
  headers(user?: { id: string; name: string }): Record<string, string>;
  fetch(pathname: string, init?: RequestInit & { user?: { id: string; name: string } }): Promise<Response>;
  json<T = unknown>(pathname: string, init?: RequestInit & { user?: { id: string; name: string } }): Promise<{ status: number; body: T }>;
  submit(operation: string, body: unknown, user?: { id: string; name: string }): Promise<string>;
  waitFor(id: string, timeoutSeconds?: number): Promise<ApiRequest>;
  /** Stops the server (SIGTERM, SIGKILL if it lingers) but keeps its data for a restart. */
  stop(): Promise<void>;
  /** kill -9: no chance to clean up. */
  kill9(): Promise<void>;
  /** Starts a new server process on the same data dir. */
  restart(): Promise<TestServer>;
  /** Stops the server and removes its home. */
  dispose(): Promise<void>;
}

export const ALICE = { id: 'a11ce000', name: 'alice' };

/**
 * Every test call goes out on a connection of its own. A pooled one races the server's keep-alive
 * timeout whenever a test holds its event loop past it (a spawnSync, a loop of sync writes on a loaded
 * machine): the call then crosses the server's close and fails with "other side closed" (CI:
 * cancel.test.ts after writing 3000 files, team-server.test.ts after `users add`). The product's client
 * retries what is safe to retry instead (client/http.ts); the tests' calls are not all safe to retry.
 */
export const OWN_CONNECTION = { connection: 'close' } as const;

/**
 * The servers this test process started that still run, and the homes it made that are not removed yet.
 * A test file that times out is ended by the test runner with SIGTERM, before its after() hooks run: its
 * servers (and their jobs) would outlive it, and their homes stay in the temp folder.
 */
const running = new Set<ChildProcess>();
const homesMade = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const home of homesMade) rmSync(home, { recursive: true, force: true });
});
// SIGTERM would end the process without 'exit' handlers; exit as it would, but through them.
process.once('SIGTERM', () => process.exit(128 + 15));

export interface ServerLauncher {
  /** What runs `node server.js ...`, such as setpriv with another uid (it must exec node, keeping the pid). */
  prefix: string[];
  /** dist/server.js, or a copy the launched user can read. */
  serverJs: string;
}

export async function startServer(opts: { args?: string[]; home?: string; env?: NodeJS.ProcessEnv; launcher?: ServerLauncher } = {}): Promise<TestServer> {
  const home = opts.home ?? mkdtempSync(path.join(os.tmpdir(), 'skydeck-test-'));
  if (!opts.home) homesMade.add(home);
  const dataDir = path.join(home, 'server');
  const infoFile = path.join(dataDir, 'server.json');
  rmSync(infoFile, { force: true });
  const argv = [process.execPath, opts.launcher?.serverJs ?? SERVER_JS, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])];
  const [file, ...args] = [...(opts.launcher?.prefix ?? []), ...argv];
  const child = spawn(file!, args, {
    env: { ...process.env, SKYDECK_HOME: home, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );

  const deadline = Date.now() + 15_000;
  while (!existsSync(infoFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const { url } = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string };

  const headers = (user = ALICE): Record<string, string> => {
    const h: Record<string, string> = { 'x-skydeck-user-id': user.id, 'x-skydeck-user-name': user.name };
    const tokenFile = path.join(dataDir, 'local-token');
    if (existsSync(tokenFile)) h.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
    return h;
  };
  const doFetch = (pathname: string, init: RequestInit & { user?: { id: string; name: string } } = {}) => {
    const { user, ...rest } = init;
    return fetch(url + pathname, { ...rest, headers: { ...headers(user), ...OWN_CONNECTION, ...(rest.body ? { 'content-type': 'application/json' } : {}), ...(rest.headers as Record<string, string>) } });
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const server: TestServer = {
    url,
    home,
    dataDir,
    process: child,
    output: () => output,
    headers,
    fetch: doFetch,
    async json(pathname, init) {
      const res = await doFetch(pathname, init);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async submit(operation, body, user) {
      const res = await server.json<{ requestId: string; error?: { message: string } }>(`/api/v1/${operation}`, { method: 'POST', body: JSON.stringify(body), user });
      if (res.status !== 202) throw new Error(`submit ${operation} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.requestId;
    },
    async waitFor(id, timeoutSeconds = 30) {
      const res = await server.json<ApiRequest>(`/api/requests/${id}?wait=${timeoutSeconds}`);
      if (res.status !== 200) throw new Error(`GET request ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    stop: () => stopWith('SIGTERM'),
    kill9: () => stopWith('SIGKILL'),
    async restart() {
      await stopWith('SIGTERM');
      return startServer({ ...opts, home });
    },
    async dispose() {
      await stopWith('SIGTERM');
      rmSync(home, { recursive: true, force: true });
      homesMade.delete(home);
    },
  };
  return server;
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether a process is alive (and not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker) && processAlive(pid)) pids.push(pid);
    } catch {
      // exited while scanning
    }
  }
  return pids;
}
