// Wall time of `skydeck` commands as a user runs them (`node dist/cli.js ...`, from the run's copy of dist/) against a running server.
import { spawn } from 'node:child_process';
import { track } from '../lib/processes';
import type { Build } from '../lib/build';
import { cleanEnv, type BenchServer } from '../lib/server';
import { median, nowMs } from '../lib/stats';

export interface CliTiming {
  args: string[];
  runsMs: number[];
  medianMs: number;
}

async function timeOnce(cliJs: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = nowMs();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = track(spawn(process.execPath, [cliJs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, output });
    });
  });
  const ms = nowMs() - t0;
  if (code !== 0) throw new Error(`skydeck ${args.join(' ')} exited ${code}:\n${output}`);
  return ms;
}

/** The CLI runs as the same user as the server (same SKYDECK_HOME), as on a laptop with a local server. */
export async function cliWallTimes(build: Build, server: BenchServer, runs: number): Promise<CliTiming[]> {
  const env = cleanEnv({ SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url });
  const out: CliTiming[] = [];
  for (const args of [['api', 'status'], ['api', 'info'], ['--version']]) {
    await timeOnce(build.cliJs, args, env); // the first run also creates the CLI's home (user hash)
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) runsMs.push(await timeOnce(build.cliJs, args, env));
    out.push({ args, runsMs, medianMs: median(runsMs) });
  }
  return out;
}
