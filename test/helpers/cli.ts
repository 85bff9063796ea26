// Runs the real `skydeck` CLI (dist/cli.js) as a process against a test server, with its own SKYDECK_HOME.
// Every process started here is killed by dispose() (tests call it from t.after), even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { TestServer } from './server';

export const CLI_JS = path.resolve(__dirname, '../../dist/cli.js');

export interface CliTarget {
  home: string;
  /** The endpoint the CLI uses (SKYDECK_API_SERVER_ENDPOINT). */
  url: string;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  done: Promise<CliRun>;
  /** SIGKILL if still running. */
  dispose(): void;
}

/** The CLI's environment: no SKYDECK_* leaking in from the test runner's own. */
export function cliEnv(target: CliTarget, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYDECK_')));
  return { ...env, SKYDECK_HOME: target.home, SKYDECK_API_SERVER_ENDPOINT: target.url, ...extra };
}

export function spawnCli(target: CliTarget, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_JS, ...args], { env: cliEnv(target, options.env), cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.end(options.input ?? '');
  const done = new Promise<CliRun>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitForOutput(pattern, timeoutMs = 20_000, stream = 'stdout') {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stream === 'stdout' ? stdout : stderr)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`skydeck ${args.join(' ')} exited before printing ${pattern}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`skydeck ${args.join(' ')} did not print ${pattern} in time:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    done,
    dispose() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs the CLI to the end; a run that outlives timeoutMs is killed and reported. */
export async function runCli(target: CliTarget, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const cli = spawnCli(target, args, options);
  const timer = setTimeout(() => cli.dispose(), options.timeoutMs ?? 60_000);
  try {
    const run = await cli.done;
    if (run.signal === 'SIGKILL') throw new Error(`skydeck ${args.join(' ')} timed out:\n${run.stdout}\n${run.stderr}`);
    return run;
  } finally {
    clearTimeout(timer);
    cli.dispose();
  }
}

/**
 * Cancels every request and tears down every cluster, then stops the server and removes its home. Jobs outlive
 * the server by design, so a test that launched any must end them through the API, even when it failed.
 */
export async function disposeWithWork(server: TestServer): Promise<void> {
  try {
    await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ all: true, allUsers: true }) });
    const { body } = await server.json<{ clusters: { name: string }[] }>('/api/clusters');
    for (const cluster of body.clusters) await server.waitFor(await server.submit('down', { clusterName: cluster.name }));
  } finally {
    await server.dispose();
  }
}

/** A loopback port nothing listens on right now (for endpoints a test wants to control). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A folder of task files under the server's home (removed with it): write(name, yaml) gives the file's path. */
export interface TaskFiles {
  dir: string;
  write(name: string, yaml: string): string;
}

export function taskFiles(server: { home: string }): TaskFiles {
  const dir = path.join(server.home, 'tasks');
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    write(name, yaml) {
      const file = path.join(dir, name);
      writeFileSync(file, yaml);
      return file;
    },
  };
}
