// Shared by the security tests: raw HTTP calls (any Host, Origin or header), WebSocket upgrades, and
// team servers with accounts made by the server program itself, as an admin would.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { SERVER_JS, startServer, type TestServer } from '../helpers/server';

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

/** Opens /api/ws; resolves 'open' (then closes it unless kept) or the HTTP status of the refusal. */
export function upgrade(url: string, headers: Record<string, string> = {}, keep?: WebSocket[]): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, { headers });
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

/** A team server whose users exist before it starts; passwords are `<name>-password`. */
export async function startTeamServer(users: { name: string; role: 'admin' | 'user' }[], args: string[] = []): Promise<{ server: TestServer; accounts: Record<string, Account> }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-sec-'));
  const dataDir = path.join(home, 'server');
  const accounts: Record<string, Account> = {};
  for (const u of users) {
    const password = `${u.name}-password`;
    admin(dataDir, ['users', 'add', u.name, '--role', u.role, '--password-stdin'], `${password}\n`);
    accounts[u.name] = { name: u.name, password, authorization: basic(u.name, password) };
  }
  const server = await startServer({ home, args });
  return { server, accounts };
}

/** Calls the team server as an account (or with no credentials at all). */
export async function call<T = { error?: { code: string; message: string } }>(
  server: TestServer,
  pathname: string,
  authorization: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(server.url + pathname, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, body: init.body !== undefined ? JSON.stringify(init.body) : undefined });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}
