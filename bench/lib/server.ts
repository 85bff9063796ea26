// One real API server (the dist/server.js bundle) on a loopback port with its own SKYDECK_HOME and data dir,
// started the way a user starts it, and stopped (with any job it started) by the benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Build } from './build';
import { BENCH_USER, KeepAliveConnection } from './http';
import { killProcessesUnder, track } from './processes';
import { nowMs, sleep } from './stats';

/** The environment of everything the benchmark spawns: none of the caller's SKYDECK_* settings. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYDECK_')));
  return { ...env, ...extra };
}

export interface StartOptions {
  /** A fresh directory for this server: its SKYDECK_HOME; the data dir is <dir>/server. */
  dir: string;
  build: Build;
  /** Write a V8 CPU profile of the server into this directory when it exits. */
  cpuProfDir?: string;
  /** More command-line options of the server (`--max-websockets-per-client 2000`). */
  args?: string[];
}

export class BenchServer {
  private exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly home: string,
    readonly dataDir: string,
    readonly url: string,
    /** Spawn until /api/health answered 200. */
    readonly readyMs: number,
    private readonly logFile: string,
  ) {
    this.exited = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(opts: StartOptions): Promise<BenchServer> {
    const home = opts.dir;
    const dataDir = path.join(home, 'server');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const logFile = path.join(home, 'server.log');
    const infoFile = path.join(dataDir, 'server.json');
    const out = openSync(logFile, 'a');
    const profile = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
    const t0 = nowMs();
    const child = track(
      spawn(process.execPath, [...profile, opts.build.serverJs, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
        env: cleanEnv({ SKYDECK_HOME: home }),
        stdio: ['ignore', out, out],
      }),
    );
    closeSync(out);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start:\n${readFileSync(logFile, 'utf8')}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`server did not answer /api/health within 30 s:\n${readFileSync(logFile, 'utf8')}`);
      }
      let url: string | undefined;
      try {
        url = (JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string }).url;
      } catch {
        // not written yet (or half written)
      }
      if (url) {
        const conn = await KeepAliveConnection.open(url, identityHeaders(dataDir)).catch(() => undefined);
        const answer = await conn?.request('GET', '/api/health').catch(() => undefined);
        conn?.close();
        if (answer?.status === 200) return new BenchServer(child, home, dataDir, url, nowMs() - t0, logFile);
      }
      await sleep(1);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Headers every call carries: who we are, and the local token should the server ask for one. */
  headers(): Record<string, string> {
    return identityHeaders(this.dataDir);
  }

  connect(): Promise<KeepAliveConnection> {
    return KeepAliveConnection.open(this.url, this.headers());
  }

  /** Resident memory of the server process, in bytes (VmRSS from /proc/<pid>/status). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!kib) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(kib[1]) * 1024;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** SIGTERM (the server's clean shutdown), SIGKILL after 10 s; then ends any job left in its sandboxes. */
  async stop(): Promise<{ stopMs: number; forced: boolean }> {
    const t0 = nowMs();
    let forced = false;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        forced = true;
        this.child.kill('SIGKILL');
      }, 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    const stopMs = nowMs() - t0;
    killProcessesUnder(this.home);
    return { stopMs, forced };
  }
}

function identityHeaders(dataDir: string): Record<string, string> {
  const headers: Record<string, string> = { 'x-skydeck-user-id': BENCH_USER.id, 'x-skydeck-user-name': BENCH_USER.name };
  const tokenFile = path.join(dataDir, 'local-token');
  if (existsSync(tokenFile)) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
  return headers;
}
