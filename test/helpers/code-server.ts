// code-server with the packaged SkyDeck .vsix, for TypeScript tests that drive VS Code against a test
// server (test/infra/vscode-*.test.ts): packages the .vsix from dist/ into a temporary folder, then runs
// test/e2e/code-server.sh (the start-up test/e2e/run.sh uses) in its own process group.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './cli';
import { eventually, type TestServer } from './server';

const ROOT = path.resolve(__dirname, '../..');

export interface CodeServer {
  /** The workbench with the workspace folder open. */
  url: string;
  workspace: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(server: TestServer): Promise<CodeServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-code-server-'));
  const workspace = path.join(dir, 'ws');
  mkdirSync(workspace);
  const vsix = path.join(dir, 'skydeck.vsix');
  try {
    // Setup first (installs code-server once, minutes on a fresh machine), packaging second (dist/ as built).
    execFileSync('bash', [path.join(ROOT, 'scripts/e2e/setup.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/package-vsix.mjs'), '--skip-build', '--out', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const child = spawn('bash', [path.join(ROOT, 'test/e2e/code-server.sh'), vsix, dir, String(port), server.url, workspace], {
    detached: true,
    env: { ...process.env, SKYDECK_HOME: server.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        break; // the group is gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output}`);
        return fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      },
      90_000,
      'code-server to answer /healthz',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, workspace, output: () => output, stop };
}
