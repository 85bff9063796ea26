// `npm run bench:recheck`: what open connections cost a server that does nothing else. Each server
// (dist/server.js on loopback) holds 1,000 open WebSockets with the same credentials, as 1,000 log
// followers of one user would, and the CPU time it spends meanwhile (once-a-second credential recheck,
// heartbeats) is read from /proc/<pid>/stat over the same windows for every server. A measuring tool:
// it asserts nothing about timing.
// `SKYDECK_BENCH_BASELINE=DIR` (a folder holding another build's server.js and cli.js) runs that server
// at the same time, so that the two are compared under the same load.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { ROOT, snapshotBuild } from './lib/build';
import { describeMachine } from './lib/machine';
import { cpuMs } from './lib/processes';
import { BenchServer } from './lib/server';
import { sleep } from './lib/stats';

const CONNECTIONS = Number(process.env.SKYDECK_BENCH_CONNECTIONS ?? 1000);
const WINDOWS = Number(process.env.SKYDECK_BENCH_WINDOWS ?? 6);
const WINDOW_MS = 5_000;


function openSockets(server: BenchServer, count: number): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers(), perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-recheck-'));
  const servers: { name: string; server: BenchServer; sockets: WebSocket[]; cpu: number[] }[] = [];
  try {
    const builds = [{ name: 'this build', build: snapshotBuild(path.join(root, 'dist'), path.join(ROOT, 'dist')) }];
    const baselineDir = process.env.SKYDECK_BENCH_BASELINE;
    if (baselineDir) builds.push({ name: 'baseline', build: snapshotBuild(path.join(root, 'baseline'), path.resolve(baselineDir)) });
    for (const { name, build } of builds) {
      const server = await BenchServer.start({ dir: path.join(root, name.replace(/\W/g, '-')), build, args: ['--max-websockets-per-client', String(CONNECTIONS + 16), '--max-connections-per-client', String(CONNECTIONS + 64)] });
      servers.push({ name, server, sockets: [], cpu: [] });
    }
    // Idle first, for the floor; then with the connections open.
    const idle = new Map(servers.map((s) => [s, [] as number[]]));
    const measure = async (into: (s: (typeof servers)[number]) => number[]) => {
      const before = servers.map((s) => cpuMs(s.server.pid));
      await sleep(WINDOW_MS);
      servers.forEach((s, i) => into(s).push(((cpuMs(s.server.pid) - before[i]!) * 1000) / WINDOW_MS));
    };
    await sleep(2_000);
    for (let i = 0; i < 2; i++) await measure((s) => idle.get(s)!);
    for (const s of servers) s.sockets = await openSockets(s.server, CONNECTIONS);
    await sleep(2_000);
    const loadBefore = os.loadavg();
    for (let i = 0; i < WINDOWS; i++) await measure((s) => s.cpu);
    const loadAfter = os.loadavg();
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`Machine: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average (1, 5, 15 min) ${load(loadBefore)} before, ${load(loadAfter)} after`);
    const base = servers.find((s) => s.name === 'baseline');
    // The mean over all windows: heartbeats come every few windows, the recheck every second.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const s of servers) {
      const ratio = base && s !== base ? `  ${(mean(s.cpu) / mean(base.cpu)).toFixed(2)}x baseline` : '';
      console.log(
        `${s.name.padEnd(10)} CPU with ${CONNECTIONS} open WebSockets (one credential): ${mean(s.cpu).toFixed(1)} ms/s over ${(s.cpu.length * WINDOW_MS) / 1000} s (per ${WINDOW_MS / 1000} s window: ${s.cpu.map((c) => c.toFixed(0)).join(', ')})${ratio}; with none open ${mean(idle.get(s)!).toFixed(1)} ms/s`,
      );
    }
  } finally {
    for (const s of servers) {
      for (const ws of s.sockets) ws.terminate();
      await s.server.stop();
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
