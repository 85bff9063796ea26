// `npm run bench:plan`: the server's share of `skydeck launch --dryrun`, POST /api/plan, timed in process
// on one keep-alive connection against a real server (dist/server.js) on local infra, for one-candidate
// tasks with and without ports and for bench/task-schema.ts's 200-line task with 10 any_of candidates.
// Plans are spaced out as dry runs are (one per CLI run), so that no plan finds what the one before it
// read. A measuring tool: it asserts nothing about timing.
// `SKYDECK_BENCH_BASELINE=DIR` (a folder holding another build's server.js and cli.js, such as main's dist/
// copied before a change) also starts that server and times it interleaved with this one, so the ratio
// compares the two under the same load. `SKYDECK_BENCH_CPU_PROF=DIR` writes the servers' CPU profiles there.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTaskYaml, type Task } from '../protocol/task';
import { ROOT, snapshotBuild } from './lib/build';
import type { KeepAliveConnection } from './lib/http';
import { describeMachine } from './lib/machine';
import { BenchServer } from './lib/server';
import { median, nowMs, percentile, sleep } from './lib/stats';
import { bigTaskFile } from './task-schema';


/** A small task with one candidate that asks for what costs a look at the machine (free disk; ports with `ports`). */
const oneCandidate = (ports: string) => `name: one
resources:
  infra: local
  cpus: 1+
  disk_size: 1
${ports}run: echo hi
`;
const ROUNDS = Number(process.env.SKYDECK_BENCH_ROUNDS ?? 150);
/** Between two plans: longer than any cache of what a plan reads would last. */
const PAUSE_MS = 60;

interface Target {
  name: string;
  server: BenchServer;
  conn: KeepAliveConnection;
  times: Record<string, number[]>;
}

async function plan(conn: KeepAliveConnection, task: Task): Promise<number> {
  const t0 = nowMs();
  await conn.json('POST', '/api/plan', 200, { task });
  return nowMs() - t0;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-plan-'));
  const targets: Target[] = [];
  const tasks: Record<string, Task> = {
    '1 candidate': parseTaskYaml(oneCandidate('')),
    '1 candidate, ports': parseTaskYaml(oneCandidate('  ports: 8080\n')),
    '10 candidates, ports (200 lines)': parseTaskYaml(bigTaskFile()),
  };
  try {
    const cpuProfDir = process.env.SKYDECK_BENCH_CPU_PROF ? path.resolve(process.env.SKYDECK_BENCH_CPU_PROF) : undefined;
    const builds = [{ name: 'this build', build: snapshotBuild(path.join(root, 'dist'), path.join(ROOT, 'dist')) }];
    const baselineDir = process.env.SKYDECK_BENCH_BASELINE;
    if (baselineDir) builds.push({ name: 'baseline', build: snapshotBuild(path.join(root, 'baseline'), path.resolve(baselineDir)) });
    for (const { name, build } of builds) {
      const server = await BenchServer.start({ dir: path.join(root, name.replace(/\W/g, '-')), build, cpuProfDir });
      targets.push({ name, server, conn: await server.connect(), times: {} });
    }
    // Warm up the JIT of both servers and the client.
    for (let i = 0; i < 20; i++) for (const t of targets) for (const task of Object.values(tasks)) await plan(t.conn, task);
    const loadBefore = os.loadavg();
    for (let i = 0; i < ROUNDS; i++) {
      for (const t of targets) {
        for (const [label, task] of Object.entries(tasks)) {
          await sleep(PAUSE_MS);
          (t.times[label] ??= []).push(await plan(t.conn, task));
        }
      }
    }
    const loadAfter = os.loadavg();
    const f = (n: number) => `${n.toFixed(2)} ms`;
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`Machine: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average (1, 5, 15 min) ${load(loadBefore)} before, ${load(loadAfter)} after`);
    for (const label of Object.keys(tasks)) {
      for (const t of targets) {
        const times = t.times[label]!;
        const vsBaseline = targets.length > 1 && t !== targets[targets.length - 1] ? `  ${(median(times) / median(targets[targets.length - 1]!.times[label]!)).toFixed(2)}x baseline` : '';
        console.log(`plan, ${label.padEnd(32)} ${t.name.padEnd(10)} median ${f(median(times))}  p95 ${f(percentile(times, 95))}${vsBaseline}  (${times.length} runs, interleaved)`);
      }
    }
  } finally {
    for (const t of targets) {
      t.conn.close();
      await t.server.stop();
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
