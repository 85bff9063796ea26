// Server cold start: spawn `node dist/server.js` until /api/health answers, on a fresh data dir each time.
// A bare `node -e 0` is timed the same way, so the figure can be read against what Node itself costs here.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Build } from '../lib/build';
import { BenchServer } from '../lib/server';
import { track } from '../lib/processes';
import { median, nowMs } from '../lib/stats';

export interface ColdStartResult {
  runsMs: number[];
  medianMs: number;
  nodeBareRunsMs: number[];
  nodeBareMedianMs: number;
}

async function nodeBareStart(runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => {
      const child = track(spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }));
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    out.push(nowMs() - t0);
  }
  return out;
}

export async function coldStart(build: Build, root: string, runs: number): Promise<ColdStartResult> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const server = await BenchServer.start({ dir: path.join(root, `cold-${i}`), build });
    runsMs.push(server.readyMs);
    await server.stop();
  }
  const nodeBareRunsMs = await nodeBareStart(runs);
  return { runsMs, medianMs: median(runsMs), nodeBareRunsMs, nodeBareMedianMs: median(nodeBareRunsMs) };
}
