// Shared by the security tests: raw HTTP calls (any Host, Origin or header), WebSocket upgrades, and
// team servers with accounts made by the server program itself, as an admin would.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import http from 'node:http';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { OWN_CONNECTION, SERVER_JS, startServer, type TestServer } from '../helpers/server';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = { error?: { code: string; message: string } }>(): T;
}

/** One HTTP call with exactly these headers (node:http lets a test set Host, unlike fetch). */
export function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawAnswer> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Opens /api/ws, from `localAddress` when given (a loopback address other than 127.0.0.1 is another client
 * to the server's per-address caps); resolves 'open' (then closes it unless kept) or the HTTP status of the
 * refusal (0: the connection was dropped).
 */
export function upgrade(url: string, headers: Record<string, string> = {}, keep?: { close(): void }[], localAddress?: string): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, { headers, localAddress });
    ws.once('open', () => {
      if (keep) keep.push(ws);
      else ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', () => resolve(0));
  });
}

/** Runs `node dist/server.js users|tokens ...` on a data dir; returns stdout, throws with stderr on failure. */
export function admin(dataDir: string, args: string[], input?: string): string {
  const r = spawnSync(process.execPath, [SERVER_JS, ...args, '--data-dir', dataDir], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`server ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface Account {
  name: string;
  password: string;
  authorization: string;
}

/**
 * A team server whose users exist before it starts; passwords are `<name>-password`. Its members may run
 * local jobs (--team-local-infra) unless `localInfra` is false: these tests run everyone's jobs locally.
 */
export async function startTeamServer<Name extends string>(users: { name: Name; role: 'admin' | 'user' }[], args: string[] = [], localInfra = true): Promise<{ server: TestServer; accounts: Record<Name, Account> }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-sec-'));
  const dataDir = path.join(home, 'server');
  const accounts = {} as Record<Name, Account>;
  for (const u of users) {
    const password = `${u.name}-password`;
    admin(dataDir, ['users', 'add', u.name, '--role', u.role, '--password-stdin'], `${password}\n`);
    accounts[u.name] = { name: u.name, password, authorization: basic(u.name, password) };
  }
  const server = await startServer({ home, args: localInfra ? [...jobIsolationArgs(home), ...args] : args });
  return { server, accounts };
}

/**
 * --team-local-infra with the job sandboxes inside `home` (made searchable, 0711, so jobs can reach their
 * own sandbox; the data dir beside it stays 0700) and a random uid range, so that servers of tests
 * running at once never share a job uid.
 */
export function jobIsolationArgs(home: string): string[] {
  chmodSync(home, 0o711);
  const first = 1_900_000_000 + Math.floor(Math.random() * 60_000) * 1000;
  return ['--team-local-infra', '--job-sandboxes', path.join(home, 'job-sandboxes'), '--job-uids', `${first}-${first + 999}`];
}

/** Calls the team server as an account (or with no credentials at all). */
export async function call<T = { error?: { code: string; message: string } }>(
  server: TestServer,
  pathname: string,
  authorization: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...OWN_CONNECTION, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(server.url + pathname, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, body: init.body !== undefined ? JSON.stringify(init.body) : undefined });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** dist/cli.js (with its commands' bundles, cli-*.js) and dist/server.js, copied where any user can read them (the checkout may be in a folder they cannot enter). */
const bundles = () => readdirSync(path.dirname(SERVER_JS)).filter((f) => f === 'server.js' || /^cli(-[\w-]+)?\.js$/.test(f));

export interface OtherUser {
  name: string;
  /** A folder the user owns, to use as their SKYDECK_HOME or for their files. */
  home: string;
  /** The CLI bundle, readable by them. */
  cli: string;
  /** The server bundle, readable by them. */
  serverJs: string;
  /** Runs a command as them and waits for it. */
  run(args: string[], env?: Record<string, string>): SpawnSyncReturns<string>;
  /** Starts a command as them in the background. */
  spawn(args: string[], env?: Record<string, string>): ChildProcess;
  dispose(): void;
}

/** A second OS user made with useradd (root only), who can run the project's bundles wherever the checkout is. */
export function anotherOsUser(): OtherUser | undefined {
  if (process.getuid?.() !== 0 || spawnSync('which', ['useradd', 'runuser']).status !== 0) return undefined;
  const name = `skd${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const made = spawnSync('useradd', ['--no-create-home', '--shell', '/bin/sh', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd ${name}: ${made.stderr}`);
  const shared = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bundles-'));
  chmodSync(shared, 0o755);
  for (const file of bundles()) copyFileSync(path.join(path.dirname(SERVER_JS), file), path.join(shared, file));
  for (const file of bundles()) chmodSync(path.join(shared, file), 0o644);
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-other-user-'));
  spawnSync('chown', [name, home]);
  const children: ChildProcess[] = [];
  const argv = (args: string[], env: Record<string, string>) => ['-u', name, '--', 'env', `HOME=${home}`, `SKYDECK_HOME=${path.join(home, 'skydeck')}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args];
  return {
    name,
    home,
    cli: path.join(shared, 'cli.js'),
    serverJs: path.join(shared, 'server.js'),
    run: (args, env = {}) => spawnSync('runuser', argv(args, env), { encoding: 'utf8', timeout: 30_000 }),
    spawn(args, env = {}) {
      // Its own process group, so that dispose stops what it started too.
      const child = spawn('runuser', argv(args, env), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.push(child);
      return child;
    },
    dispose() {
      for (const child of children) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('userdel', [name]);
      rmSync(shared, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** mulberry32: small, fast, seedable. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof random>;
