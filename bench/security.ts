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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { eventually, startServer, type TestServer } from '../test/helpers/server';
import { follower, gzipBomb, memoryOf } from '../test/security/flood-tools';
import { raw } from '../test/security/helpers';
import { describeMachine } from './lib/machine';
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

/** A WebSocket follower that hashes what it receives, to compare with the log file. */
function hashingFollower(server: TestServer, requestId: string): Promise<{ ws: WebSocket; bytes: () => number; digest: () => string; dropped: () => string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers(), perMessageDeflate: false });
    const hash = createHash('sha256');
    let bytes = 0;
    let dropped: string | undefined;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; data?: string; code?: string; message?: string };
      if (m.type === 'log' && m.data) {
        hash.update(m.data);
        bytes += Buffer.byteLength(m.data);
      } else if (m.type === 'error') dropped = `${m.code}: ${m.message}`;
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's', requestId, follow: true }));
      resolve({ ws, bytes: () => bytes, digest: () => hash.digest('hex'), dropped: () => dropped });
    });
  });
}

async function thousandFollowers(): Promise<Record<string, unknown>> {
  const server = await startServer({ args: ['--max-websockets-per-client', String(FOLLOWERS + 16), '--max-connections-per-client', String(FOLLOWERS + 64)] });
  try {
    // A fast log: numbered lines as quickly as the job can write them, after the followers are attached.
    const lines = 100_000;
    const id = await server.submit('launch', { clusterName: 'fast', task: { run: `sleep 3; seq 1 ${lines}` } });
    const followers: Awaited<ReturnType<typeof hashingFollower>>[] = [];
    for (let i = 0; i < FOLLOWERS; i += 50) followers.push(...(await Promise.all(Array.from({ length: Math.min(50, FOLLOWERS - i) }, () => hashingFollower(server, id)))));
    progress(`  ${followers.length} followers attached`);
    // /api/health on its own keep-alive connection, every 20 ms, until every follower has everything.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const healthMs: number[] = [];
    let measuring = true;
    const { hostname, port } = new URL(server.url);
    const probe = (async () => {
      while (measuring) {
        const t0 = nowMs();
        await new Promise<void>((resolve, reject) => {
          const req = http.get({ host: hostname, port, path: '/api/health', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', reject);
        });
        healthMs.push(nowMs() - t0);
        await sleep(20);
      }
    })();
    const t0 = nowMs();
    const done = await finished(server, id, 600);
    if (done.status !== 'SUCCEEDED') throw new Error(`the job ended ${done.status}`);
    const log = readFileSync(path.join(server.dataDir, 'logs', `${id}.log`));
    await eventually(() => followers.every((f) => f.bytes() >= log.length || f.dropped()), 600_000, 'every follower to get the whole log');
    const deliveredSeconds = (nowMs() - t0) / 1000;
    measuring = false;
    await probe;
    agent.destroy();
    const expected = createHash('sha256').update(log).digest('hex');
    const complete = followers.filter((f) => f.bytes() === log.length && f.digest() === expected).length;
    const dropped = followers.map((f) => f.dropped()).filter(Boolean);
    for (const f of followers) f.ws.close();
    return {
      followers: followers.length,
      logBytes: log.length,
      completeInOrder: complete,
      dropped: dropped.length,
      firstDrop: dropped[0],
      deliveredSeconds,
      peakRssMb: memoryOf(server.process.pid!).peakMb,
      healthMs: distribution(healthMs),
    };
  } finally {
    await server.dispose();
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const loadBefore = os.loadavg()[0]!;
  progress(`${machine.nproc} CPUs (${machine.cpuModel}), load average ${loadBefore.toFixed(2)}`);
  progress(`64 paused followers of a ${LOG_MB} MB log`);
  const paused = await pausedFollowers();
  progress(`8 concurrent upload bombs`);
  const bombs = await uploadBombs();
  progress(`${FOLLOWERS} followers of one fast log, /api/health meanwhile`);
  const many = await thousandFollowers();
  const results = { machine, loadAverage: { before: loadBefore, after: os.loadavg()[0] }, commit: process.env.GIT_COMMIT, pausedFollowers: paused, uploadBombs: bombs, manyFollowers: many };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/security.json'), JSON.stringify(results, null, 2) + '\n');
  const h = many.healthMs as ReturnType<typeof distribution>;
  console.log(`\nSecurity figures (${machine.nproc} CPUs, ${machine.cpuModel}; load average ${loadBefore.toFixed(2)} -> ${results.loadAverage.after!.toFixed(2)}):`);
  console.log(`  64 paused followers of a ${(paused.logBytes! / 1e6).toFixed(0)} MB log: peak server RSS ${paused.peakRssMbWhilePaused} MB while paused, ${paused.peakRssMbAfterDrain} MB after 4 of them read the whole log (${paused.drainSeconds!.toFixed(1)} s)`);
  console.log(`  8 concurrent gzip bombs (${bombs.bombKb} KB each, 300 MiB expanded): all 413, peak server RSS ${bombs.peakRssMb} MB`);
  console.log(`  ${many.followers} followers of a ${((many.logBytes as number) / 1e6).toFixed(2)} MB log: ${many.completeInOrder} got every byte in order, ${many.dropped} dropped; peak server RSS ${many.peakRssMb} MB; /api/health meanwhile p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms, max ${h.max.toFixed(2)} ms (${h.n} probes)`);
  if ((many.completeInOrder as number) !== many.followers) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
