// Starting and stopping the bundled API server on this machine. The server runs detached, so it
// outlives the window and the CLI shares it; a lock file keeps two clients from starting two servers.
// TODO(client): client/ will own local auto-start (and this lock); this moves there once it lands.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerInfoFile {
  pid: number;
  host: string;
  port: number;
  url: string;
}

export interface StartOptions {
  /** dist/server.js inside the installed extension. */
  serverScript: string;
  host: string;
  port: number;
  dataDir: string;
  /** The runtime to start it with: VS Code's own (process.execPath) unless told otherwise. */
  execPath?: string;
  /** Resolves true once the server answers; polled until `timeoutMs`. */
  isHealthy: () => Promise<boolean>;
  timeoutMs?: number;
}

/** A lock older than this was left by a client that died while starting the server. */
const STALE_LOCK_MS = 30_000;

export function readServerInfo(dataDir: string): ServerInfoFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as ServerInfoFile;
  } catch {
    return undefined;
  }
}

/**
 * Starts the server unless another client is already doing so, then waits until it answers.
 * Returns the pid it started, or undefined when another client held the lock and the server came up anyway.
 */
export async function startLocalServer(options: StartOptions): Promise<number | undefined> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  mkdirSync(options.dataDir, { recursive: true });
  const lock = join(options.dataDir, 'start.lock');
  const deadline = Date.now() + timeoutMs;
  let pid: number | undefined;
  if (takeLock(lock)) {
    try {
      // Checked again under the lock: another client may have finished starting it meanwhile.
      if (!(await options.isHealthy())) pid = spawnDetached(options);
      await waitHealthy(options.isHealthy, deadline);
    } finally {
      rmSync(lock, { force: true });
    }
  } else {
    await waitHealthy(options.isHealthy, deadline);
  }
  return pid;
}

/** Asks the local server to stop (SIGTERM to the pid it recorded). Returns the pid, if there was one. */
export function stopLocalServer(dataDir: string): number | undefined {
  const info = readServerInfo(dataDir);
  if (!info?.pid) return undefined;
  try {
    process.kill(info.pid, 'SIGTERM');
    return info.pid;
  } catch {
    return undefined;
  }
}

function spawnDetached(options: StartOptions): number | undefined {
  const log = openSync(join(options.dataDir, 'server-output.log'), 'a');
  try {
    const child = spawn(
      options.execPath ?? process.execPath,
      [options.serverScript, '--host', options.host, '--port', String(options.port), '--data-dir', options.dataDir],
      {
        detached: true,
        stdio: ['ignore', log, log],
        // Inside VS Code, execPath is Electron (or the code-server Node); this makes Electron act as Node.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        windowsHide: true,
      },
    );
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
        rmSync(lock, { force: true });
      } catch {
        // removed by its owner meanwhile: try again
      }
    }
  }
  return false;
}

async function waitHealthy(isHealthy: () => Promise<boolean>, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (await isHealthy()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error('the local API server did not answer in time');
}
