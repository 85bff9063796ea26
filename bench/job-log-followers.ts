// `npm run bench:job-logs`: what following one job's log costs the server. A local job writes 50 MB
// of lines at full speed; 10 `job_logs --follow` requests (what `skydeck logs CLUSTER JOB` submits)
// each copy it into their own request log as it grows. Reported: the server's CPU time (user +
// system, /proc/<pid>/stat) from the first follower's submit until the last copy is done, median of
// the rounds. A measuring tool: it asserts nothing about timing, and fails only when a copy fails.
// `SKYDECK_BENCH_BASELINE=DIR` (another build's server.js and cli.js) runs the same rounds on that
// server, interleaved, so that the ratio compares the two under the same load.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiRequest } from '../protocol/model';
import { ROOT, snapshotBuild, type Build } from './lib/build';
import { describeMachine } from './lib/machine';
import { cpuMs } from './lib/processes';
import { BenchServer } from './lib/server';
import { median } from './lib/stats';

const FOLLOWERS = Number(process.env.SKYDECK_BENCH_FOLLOWERS ?? 10);
const ROUNDS = Number(process.env.SKYDECK_BENCH_ROUNDS ?? 5);
const LOG_BYTES = 50e6;


/** One round on a fresh server: CPU milliseconds the copies cost it. */
async function round(build: Build, dir: string): Promise<number> {
  const server = await BenchServer.start({ dir, build });
  try {
    const conn = await server.connect();
    try {
      // The job waits a second, so that every follower is attached before the log grows.
      const run = `sleep 1; yes "$(printf 'x%.0s' $(seq 1 99))" | head -c ${LOG_BYTES}`;
      const { requestId } = await conn.json<{ requestId: string }>('POST', '/api/v1/launch', 202, { clusterName: 'loud', task: { run }, detachRun: true });
      await conn.json('GET', `/api/requests/${requestId}?wait=60`, 200);
      const before = cpuMs(server.pid);
      const ids: string[] = [];
      for (let i = 0; i < FOLLOWERS; i++) ids.push((await conn.json<{ requestId: string }>('POST', '/api/v1/job_logs', 202, { clusterName: 'loud', follow: true })).requestId);
      for (const id of ids) {
        for (;;) {
          const r = await conn.json<ApiRequest>('GET', `/api/requests/${id}?wait=60`, 200);
          if (r.status === 'SUCCEEDED') break;
          if (r.status === 'FAILED' || r.status === 'CANCELLED') throw new Error(`job_logs ${id} ended ${r.status}: ${JSON.stringify(r.error)}`);
        }
      }
      return cpuMs(server.pid) - before;
    } finally {
      conn.close();
    }
  } finally {
    await server.stop();
    // 550 MB of logs a round: not left to fill the disk (or the page cache) for the rounds after.
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-job-logs-'));
  try {
    const builds = [{ name: 'this build', build: snapshotBuild(path.join(root, 'dist'), path.join(ROOT, 'dist')), cpu: [] as number[] }];
    const baselineDir = process.env.SKYDECK_BENCH_BASELINE;
    if (baselineDir) builds.push({ name: 'baseline', build: snapshotBuild(path.join(root, 'baseline'), path.resolve(baselineDir)), cpu: [] });
    const loadBefore = os.loadavg();
    for (let i = 0; i < ROUNDS; i++) for (const b of builds) b.cpu.push(await round(b.build, path.join(root, `${b.name.replace(/\W/g, '-')}-${i}`)));
    const loadAfter = os.loadavg();
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`Machine: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average (1, 5, 15 min) ${load(loadBefore)} before, ${load(loadAfter)} after`);
    const base = builds.find((b) => b.name === 'baseline');
    for (const b of builds) {
      const ratio = base && b !== base ? `  ${(median(b.cpu) / median(base.cpu)).toFixed(2)}x baseline` : '';
      console.log(`${b.name.padEnd(10)} server CPU for ${FOLLOWERS} followers of a ${LOG_BYTES / 1e6} MB job log: median ${median(b.cpu).toFixed(0)} ms (${b.cpu.map((c) => c.toFixed(0)).join(', ')})${ratio}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
