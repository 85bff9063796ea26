// Does history make submits slower? The same submits against servers that start with 0, 10,000 and
// 100,000 finished requests stored (seeded on disk before start). The servers run side by side and are
// measured in alternating rounds, so background noise on the machine falls on all of them alike and
// the figures can be compared as ratios.
import path from 'node:path';
import type { Build } from '../lib/build';
import { seedHistory, type Seeded } from '../lib/history-seed';
import { BenchServer } from '../lib/server';
import { distribution, median, nowMs, type Distribution } from '../lib/stats';
import { drive, openConnections, submitStatus } from './load';

export interface StoreSizeRun {
  stored: number;
  seededBytes: number;
  /** Spawn -> health, with this history to load. */
  startMs: number;
  rssAfterStartBytes: number;
  /** POST /api/v1/status -> 202, one keep-alive connection, back to back. */
  submitMs: Distribution;
  /** Same, four connections at once. */
  submitConcurrentMs: Distribution;
  /** GET /api/requests?all=1 (what `skydeck api status -a` asks), median ms, with only the seeded requests stored. */
  listAllMedianMs: number;
  /** GET /api/requests/<8-char prefix>, median ms. */
  prefixLookupMedianMs: number;
}

interface Subject {
  stored: number;
  seeded: Seeded;
  server: BenchServer;
  rssAfterStartBytes: number;
  listAllMedianMs: number;
  prefixLookupMedianMs: number;
  sequential: number[];
  concurrent: number[];
}

/** Listing and prefix lookups, timed right after start while the store holds just what was seeded. */
async function timeReads(server: BenchServer, seeded: Seeded): Promise<{ listAllMedianMs: number; prefixLookupMedianMs: number }> {
  const [conn] = await openConnections(server, 1);
  try {
    const timeCalls = async (pathname: string, n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = nowMs();
        await conn!.json('GET', pathname, 200);
        times.push(nowMs() - t0);
      }
      return median(times);
    };
    const known = seeded.sampleIds[0] ?? (await submitStatus(conn!));
    return { listAllMedianMs: await timeCalls('/api/requests?all=1', 15), prefixLookupMedianMs: await timeCalls(`/api/requests/${known.slice(0, 8)}`, 30) };
  } finally {
    conn!.close();
  }
}

export async function submitByStoreSize(build: Build, root: string, sizes: number[], opts: { rounds: number; perRound: number; cpuProfDir?: string }): Promise<StoreSizeRun[]> {
  const subjects: Subject[] = [];
  try {
    for (const stored of sizes) {
      const dir = path.join(root, `store-${stored}`);
      const seeded = seedHistory(path.join(dir, 'server'), stored);
      const server = await BenchServer.start({ dir, build, cpuProfDir: opts.cpuProfDir });
      const rssAfterStartBytes = server.rssBytes();
      subjects.push({ stored, seeded, server, rssAfterStartBytes, ...(await timeReads(server, seeded)), sequential: [], concurrent: [] });
    }
    for (let round = 0; round < opts.rounds; round++) {
      // Rotate who goes first, so no size always follows the same neighbour.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
      for (const s of order) {
        // Opened per phase: the server closes keep-alive connections that sit idle for 5 s.
        for (const [n, samples] of [[1, s.sequential], [4, s.concurrent]] as const) {
          const conns = await openConnections(s.server, n);
          try {
            if (n === 1) await drive(conns, { seconds: 10, maxCalls: 50 }, submitStatus);
            samples.push(...(await drive(conns, { seconds: 30, maxCalls: opts.perRound }, submitStatus)).samples);
          } finally {
            for (const c of conns) c.close();
          }
        }
      }
    }
    return subjects.map((s) => ({
      stored: s.stored,
      seededBytes: s.seeded.bytes,
      startMs: s.server.readyMs,
      rssAfterStartBytes: s.rssAfterStartBytes,
      submitMs: distribution(s.sequential),
      submitConcurrentMs: distribution(s.concurrent),
      listAllMedianMs: s.listAllMedianMs,
      prefixLookupMedianMs: s.prefixLookupMedianMs,
    }));
  } finally {
    for (const s of subjects) await s.server.stop();
  }
}
