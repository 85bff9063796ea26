// `npm run bench:security`: the flood figures of issue 9 on this machine, each on a fresh server.
//   1. Peak server RSS with 64 paused WebSocket followers of a 400 MB log (then 4 of them, resumed,
//      read the whole log).
//   2. Peak server RSS with 8 concurrent gzip bombs (300 MiB each expanded).
//   3. 1,000 WebSocket followers of one fast log: each receives every byte in order (SHA-256 of what it
//      got against the log file), peak server RSS, and /api/health latency on a separate connection
//      meanwhile.
// Writes bench/results/security.json. A measuring tool: it asserts nothing about speed or size, it only
// fails when something breaks (a follower missing bytes).
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, startServer, type TestServer } from '../test/helpers/server';
import { follower, gzipBomb, memoryOf } from '../test/security/flood-tools';
import { raw } from '../test/security/helpers';
import type { FollowerResult } from './lib/log-followers';
import { describeMachine } from './lib/machine';
import { installExitHandlers, track } from './lib/processes';
import { distribution, nowMs, sleep } from './lib/stats';

const ROOT = path.resolve(__dirname, '..');
const LOG_MB = Number(process.env.SKYDECK_BENCH_LOG_MB ?? 400);
const FOLLOWERS = Number(process.env.SKYDECK_BENCH_FOLLOWERS ?? 1000);

function progress(text: string): void {
  process.stderr.write(`[bench:security ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

/** A job printing `bytes` of 100-byte lines. */
const loudJob = (bytes: number) => `yes "$(printf 'x%.0s' $(seq 1 99))" | head -c ${bytes}`;

async function pausedFollowers(): Promise<Record<string, number>> {
  const server = await startServer({ args: ['--max-websockets-per-client', '256'] });
  try {
    const size = LOG_MB * 1e6;
    const id = await server.submit('launch', { clusterName: 'loud', task: { run: loudJob(size) } });
    const followers = await Promise.all(Array.from({ length: 64 }, () => follower(server, id)));
    for (const f of followers) f.pause();
    const t0 = nowMs();
    const done = await finished(server, id, 1200);
    if (done.status !== 'SUCCEEDED') throw new Error(`the ${LOG_MB} MB job ended ${done.status}: ${JSON.stringify(done.error)}`);
    const jobSeconds = (nowMs() - t0) / 1000;
    await sleep(2000);
    const paused = memoryOf(server.process.pid!);
    const logBytes = readSize(server, id);
    // 64 x 400 MB would take this one client process many minutes to parse: 4 read on to the end (and
    // must get every byte), the others hang up.
    const readers = followers.slice(0, 4);
    for (const f of followers.slice(4)) f.ws.terminate();
    const t1 = nowMs();
    for (const f of readers) f.resume();
    await eventually(() => readers.every((f) => f.received() === logBytes), 1_200_000, 'the readers to receive the whole log');
    const drainSeconds = (nowMs() - t1) / 1000;
    for (const f of readers) f.ws.close();
    const end = memoryOf(server.process.pid!);
    return { logBytes, jobSeconds, peakRssMbWhilePaused: paused.peakMb, peakRssMbAfterDrain: end.peakMb, drainSeconds };
  } finally {
    await server.dispose();
  }
}

/** The request once it has finished (the server's long poll answers after at most 600 s). */
async function finished(server: TestServer, id: string, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const request = await server.waitFor(id, 600);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(request.status) || Date.now() > deadline) return request;
  }
}

function readSize(server: TestServer, id: string): number {
  return readFileSync(path.join(server.dataDir, 'logs', `${id}.log`)).length;
}

async function uploadBombs(): Promise<Record<string, number>> {
  const server = await startServer();
  try {
    const bomb = await gzipBomb(300 * 2 ** 20);
    const answers = await Promise.all(Array.from({ length: 8 }, () => raw(server.url, { method: 'POST', path: '/api/uploads', headers: { ...server.headers(), 'content-type': 'application/gzip' }, body: bomb })));
    const refused = answers.filter((a) => a.status === 413).length;
    if (refused !== 8) throw new Error(`${refused} of 8 bombs refused with 413`);
    return { bombKb: Math.round(bomb.length / 1024), peakRssMb: memoryOf(server.process.pid!).peakMb };
  } finally {
    await server.dispose();
  }
}

/** A bench child process (bench/lib/*.ts) spoken to over IPC; ended by pid on every exit path. */
function child(script: string): { send: (m: object) => void; next: <T>(type: string) => Promise<T>; end: () => void } {
  const proc = track(fork(path.join(__dirname, 'lib', script), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const waiting = new Map<string, (m: unknown) => void>();
  proc.on('message', (m: { type: string }) => waiting.get(m.type)?.(m));
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`bench/lib/${script} exited with ${code}`))));
  return {
    send: (m) => proc.send(m),
    next: <T>(type: string) => Promise.race([new Promise<T>((resolve) => waiting.set(type, resolve as (m: unknown) => void)), exited]),
    end: () => proc.kill(),
  };
}

/**
 * CPU time of a process's main thread (its event loop) and time it spent runnable but waiting for a
 * CPU (/proc/PID/schedstat, nanoseconds): on a shared machine the second says how much of a stall
 * was the machine's rather than the server's.
 */
function schedOf(pid: number): { cpuMs: number; runQueueMs: number } {
  const [cpu, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { cpuMs: cpu! / 1e6, runQueueMs: wait! / 1e6 };
}

/** The server's own event-loop delay, as bench/lib/loop-delay.mjs records it inside the server. */
function loopDelayOf(file: string): Record<string, number> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
}

async function thousandFollowers(): Promise<Record<string, unknown>> {
  const loopDelayFile = path.join(os.tmpdir(), `skydeck-bench-loop-delay-${process.pid}.json`);
  const server = await startServer({
    args: ['--max-websockets-per-client', String(FOLLOWERS + 16), '--max-connections-per-client', String(FOLLOWERS + 64)],
    env: { NODE_OPTIONS: `--import=${path.join(__dirname, 'lib', 'loop-delay.mjs')}`, SKYDECK_BENCH_LOOP_DELAY_FILE: loopDelayFile },
  });
  // The followers and the prober each in a process of their own: the latency measured is the server's.
  const followers = child('log-followers.ts');
  const prober = child('health-probe.ts');
  try {
    // A fast log: numbered lines as quickly as the job can write them, once every follower is attached
    // and the probe runs (the job waits for the bench's go file: attaching 1,000 takes a while).
    const lines = 100_000;
    const go = path.join(server.home, 'go');
    const id = await server.submit('launch', { clusterName: 'fast', task: { run: `while [ ! -e ${go} ]; do sleep 0.05; done; seq 1 ${lines}` } });
    followers.send({ type: 'start', url: server.url, headers: server.headers(), requestId: id, count: FOLLOWERS });
    const { count } = await followers.next<{ count: number }>('attached');
    progress(`  ${count} followers attached`);
    // /api/health on its own keep-alive connection, every 20 ms, until every follower has everything.
    process.kill(server.process.pid!, 'SIGUSR2');
    prober.send({ type: 'start', url: server.url, intervalMs: 20 });
    await sleep(500);
    const schedBefore = schedOf(server.process.pid!);
    const t0 = nowMs();
    writeFileSync(go, '');
    const done = await finished(server, id, 600);
    if (done.status !== 'SUCCEEDED') throw new Error(`the job ended ${done.status}`);
    const log = readFileSync(path.join(server.dataDir, 'logs', `${id}.log`));
    followers.send({ type: 'collect', bytes: log.length });
    const { followers: got } = await followers.next<{ followers: FollowerResult[] }>('collected');
    const deliveredSeconds = (nowMs() - t0) / 1000;
    prober.send({ type: 'stop' });
    const { ms: healthMs } = await prober.next<{ ms: number[] }>('samples');
    process.kill(server.process.pid!, 'SIGUSR2');
    const schedAfter = schedOf(server.process.pid!);
    await sleep(1000);
    const serverLoopDelayMs = loopDelayOf(loopDelayFile);
    const expected = createHash('sha256').update(log).digest('hex');
    const complete = got.filter((f) => f.bytes === log.length && f.digest === expected).length;
    const dropped = got.map((f) => f.dropped).filter(Boolean);
    return {
      followers: got.length,
      logBytes: log.length,
      completeInOrder: complete,
      dropped: dropped.length,
      firstDrop: dropped[0],
      deliveredSeconds,
      serverMainThread: { cpuSeconds: (schedAfter.cpuMs - schedBefore.cpuMs) / 1000, runQueueWaitSeconds: (schedAfter.runQueueMs - schedBefore.runQueueMs) / 1000 },
      peakRssMb: memoryOf(server.process.pid!).peakMb,
      healthMs: distribution(healthMs),
      serverLoopDelayMs,
    };
  } finally {
    followers.end();
    prober.end();
    rmSync(loopDelayFile, { force: true });
    await server.dispose();
  }
}

type Figures = Record<string, unknown> & { loadAverage: { before: number; after: number } };

/** Runs one scenario, noting the load average around it: the machine is shared and the load matters. */
async function measured(title: string, scenario: () => Promise<Record<string, unknown>>): Promise<Figures> {
  const before = os.loadavg()[0]!;
  progress(`${title} (load average ${before.toFixed(2)})`);
  const figures = await scenario();
  return { ...figures, loadAverage: { before, after: os.loadavg()[0]! } };
}

const load = (f: Figures) => `load average ${f.loadAverage.before.toFixed(2)} -> ${f.loadAverage.after.toFixed(2)}`;

async function main(): Promise<void> {
  installExitHandlers();
  // SKYDECK_BENCH_SCENARIOS=1,3 runs a subset; the others keep their last figures in the results file.
  const only = new Set((process.env.SKYDECK_BENCH_SCENARIOS ?? '1,2,3').split(',').map((s) => s.trim()));
  const machine = describeMachine();
  progress(`${machine.nproc} CPUs (${machine.cpuModel})`);
  const file = path.join(ROOT, 'bench/results/security.json');
  const results = (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}) as Record<string, unknown>;
  Object.assign(results, { machine, commit: process.env.GIT_COMMIT });
  console.log(`\nSecurity figures (${machine.nproc} CPUs, ${machine.cpuModel}, Node ${machine.node}):`);
  if (only.has('1')) {
    const paused = (results.pausedFollowers = await measured(`64 paused followers of a ${LOG_MB} MB log`, pausedFollowers)) as Figures & Record<string, number>;
    console.log(`  64 paused followers of a ${(paused.logBytes / 1e6).toFixed(0)} MB log: peak server RSS ${paused.peakRssMbWhilePaused} MB while paused, ${paused.peakRssMbAfterDrain} MB after 4 of them read the whole log (${paused.drainSeconds.toFixed(1)} s); ${load(paused)}`);
  }
  if (only.has('2')) {
    const bombs = (results.uploadBombs = await measured('8 concurrent upload bombs', uploadBombs)) as Figures & Record<string, number>;
    console.log(`  8 concurrent gzip bombs (${bombs.bombKb} KB each, 300 MiB expanded): all 413, peak server RSS ${bombs.peakRssMb} MB; ${load(bombs)}`);
  }
  if (only.has('3')) {
    const many = (results.manyFollowers = await measured(`${FOLLOWERS} followers of one fast log, /api/health meanwhile`, thousandFollowers)) as Figures & Record<string, number>;
    const h = many.healthMs as unknown as ReturnType<typeof distribution>;
    const loop = many.serverLoopDelayMs as unknown as Record<string, number> | undefined;
    const sched = many.serverMainThread as unknown as Record<string, number>;
    console.log(
      `  ${many.followers} followers of a ${(many.logBytes / 1e6).toFixed(2)} MB log: ${many.completeInOrder} got every byte in order, ${many.dropped} dropped, in ${many.deliveredSeconds.toFixed(1)} s; peak server RSS ${many.peakRssMb} MB; ` +
        `/api/health meanwhile p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms, max ${h.max.toFixed(2)} ms (${h.n} probes); ` +
        `server event-loop delay p99 ${loop?.p99 ?? '?'} ms, max ${loop?.max ?? '?'} ms; server main thread ${sched.cpuSeconds.toFixed(1)} s on a CPU, ${sched.runQueueWaitSeconds.toFixed(1)} s runnable but waiting for one; ${load(many)}`,
    );
    if (many.completeInOrder !== many.followers) process.exitCode = 1;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
