// Log delivery through the real pipeline: a local job writes its log file, the launch request copies
// it into the request log, and GET /api/stream?follow=1 carries it to a client.
import http from 'node:http';
import type { ApiRequest } from '../../protocol/model';
import type { BenchServer } from '../lib/server';
import { median, nowMs } from '../lib/stats';

const CLUSTER = 'bench';

/** A job line carrying the time it was written: `MARK <tag> <epoch seconds.micros>` (bash's clock, no fork). */
const markLine = (tag: string) => `printf "MARK ${tag} %s\\n" "$EPOCHREALTIME"`;
const MARK = /MARK (\S+) (\d+)[.,](\d+)/g;

/** Wall-clock ms with sub-ms resolution, comparable with bash's $EPOCHREALTIME (Date.now() truncates to whole ms). */
const wallMs = () => performance.timeOrigin + performance.now();

interface Followed {
  /** Wall clock (ms) when the response head arrived. */
  headersAt: number;
  bytes: number;
  /** Monotonic ms of the first and last byte, and of the end of the stream. */
  firstByteAt?: number;
  endAt: number;
}

/** Follows a request's log until the server ends the stream. */
function followLog(server: BenchServer, id: string, onChunk?: (chunk: Buffer) => void): Promise<Followed> {
  return new Promise((resolve, reject) => {
    const url = `${server.url}/api/stream?request_id=${id}&follow=1&format=plain`;
    const req = http.get(url, { agent: false, headers: server.headers() }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET /api/stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      const f: Followed = { headersAt: wallMs(), bytes: 0, endAt: 0 };
      res.on('data', (chunk: Buffer) => {
        f.firstByteAt ??= nowMs();
        f.bytes += chunk.length;
        onChunk?.(chunk);
      });
      res.on('end', () => {
        f.endAt = nowMs();
        resolve(f);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Collects MARK lines as they arrive, with the wall-clock ms at which each was received. */
function markCollector(): { onChunk: (chunk: Buffer) => void; marks: Map<string, { writtenAt: number; receivedAt: number }> } {
  const marks = new Map<string, { writtenAt: number; receivedAt: number }>();
  let carry = '';
  return {
    marks,
    onChunk(chunk) {
      const receivedAt = wallMs();
      const text = carry + chunk.toString('utf8');
      const lastNewline = text.lastIndexOf('\n');
      carry = text.slice(lastNewline + 1).slice(-4096);
      for (const m of text.slice(0, lastNewline + 1).matchAll(MARK)) {
        if (!marks.has(m[1]!)) marks.set(m[1]!, { writtenAt: Number(m[2]) * 1000 + Number(`0.${m[3]}`) * 1000, receivedAt });
      }
    },
  };
}

async function launch(server: BenchServer, name: string, run: string): Promise<string> {
  const conn = await server.connect();
  try {
    const body = { clusterName: CLUSTER, task: { name, resources: { infra: 'local' }, run } };
    return (await conn.json<{ requestId: string }>('POST', '/api/v1/launch', 202, body)).requestId;
  } finally {
    conn.close();
  }
}

async function finalState(server: BenchServer, id: string): Promise<ApiRequest> {
  const conn = await server.connect();
  try {
    const request = await conn.json<ApiRequest>('GET', `/api/requests/${id}?wait=120`, 200);
    if (request.status !== 'SUCCEEDED') throw new Error(`launch ${id} ended ${request.status}: ${JSON.stringify(request.error)}`);
    return request;
  } finally {
    conn.close();
  }
}

export interface FirstLineResult {
  /** Job writes the line -> the following client has it (ms), per launch. */
  deliveryMs: number[];
  deliveryMedianMs: number;
  /** Client submits the launch -> it has the job's first line (ms), per launch. */
  submitToLineMs: number[];
  submitToLineMedianMs: number;
  /** Whether the stream's response head had arrived before the job wrote its line, per launch. */
  attachedBeforeLine: boolean[];
  /** Lines a running job writes later (the follower is idle-waiting): write -> client (ms). */
  laterLinesMs: number[];
  laterLinesMedianMs: number;
}

export async function firstLogLine(server: BenchServer, runs: number): Promise<FirstLineResult> {
  // The first launch provisions the cluster; it is timed like the others but is not the steady case,
  // so one extra launch runs first to warm up.
  const deliveryMs: number[] = [];
  const submitToLineMs: number[] = [];
  const attachedBeforeLine: boolean[] = [];
  for (let i = -1; i < runs; i++) {
    const collector = markCollector();
    const submittedAt = wallMs();
    const id = await launch(server, 'first-line', markLine('first'));
    const followed = await followLog(server, id, collector.onChunk);
    await finalState(server, id);
    const mark = collector.marks.get('first');
    if (!mark) throw new Error(`launch ${id}: the stream ended without the job's first line`);
    if (i < 0) continue;
    deliveryMs.push(mark.receivedAt - mark.writtenAt);
    submitToLineMs.push(mark.receivedAt - submittedAt);
    attachedBeforeLine.push(followed.headersAt <= mark.writtenAt);
  }

  const collector = markCollector();
  const lines = 10;
  const id = await launch(server, 'later-lines', `for i in $(seq 1 ${lines}); do sleep 0.1; ${markLine('line$i')}; done`);
  await followLog(server, id, collector.onChunk);
  await finalState(server, id);
  const laterLinesMs = [...collector.marks.values()].map((m) => m.receivedAt - m.writtenAt);
  if (laterLinesMs.length !== lines) throw new Error(`later-lines launch: saw ${laterLinesMs.length} of ${lines} lines`);

  return {
    deliveryMs,
    deliveryMedianMs: median(deliveryMs),
    submitToLineMs,
    submitToLineMedianMs: median(submitToLineMs),
    attachedBeforeLine,
    laterLinesMs,
    laterLinesMedianMs: median(laterLinesMs),
  };
}

export interface StreamingResult {
  jobBytes: number;
  clientBytes: number;
  /** Client bytes / (last byte - first byte), MB = 10^6 bytes. */
  clientMBps: number;
  /** How fast the job itself wrote its log (MB/s), to tell the pipeline from the source. */
  jobMBps: number;
  /** Job's last write -> the client's end of stream (ms). */
  tailLagMs: number;
  /** Submit -> end of stream (s). */
  totalSeconds: number;
  peakServerRssBytes: number;
}

export async function logStreaming(server: BenchServer, mib: number): Promise<StreamingResult> {
  const jobBytes = mib * 1024 * 1024;
  // 100-byte lines as fast as coreutils writes them; the job stamps when it started and stopped writing.
  const run = `${markLine('start')}; yes "$(printf 'x%.0s' {1..99})" | head -c ${jobBytes}; ${markLine('end')}`;
  let peakServerRssBytes = server.rssBytes();
  const sampler = setInterval(() => {
    try {
      peakServerRssBytes = Math.max(peakServerRssBytes, server.rssBytes());
    } catch {
      // the server is gone; the follow below reports that
    }
  }, 50);
  try {
    const collector = markCollector();
    const t0 = nowMs();
    const id = await launch(server, 'stream', run);
    const followed = await followLog(server, id, collector.onChunk);
    const endWall = wallMs();
    await finalState(server, id);
    const start = collector.marks.get('start');
    const end = collector.marks.get('end');
    if (!start || !end) throw new Error(`streaming launch ${id}: the stream lacks the job's start/end marks (got ${followed.bytes} bytes)`);
    const transferSeconds = (followed.endAt - followed.firstByteAt!) / 1000;
    return {
      jobBytes,
      clientBytes: followed.bytes,
      clientMBps: followed.bytes / 1e6 / transferSeconds,
      jobMBps: jobBytes / 1e6 / ((end.writtenAt - start.writtenAt) / 1000),
      tailLagMs: endWall - end.writtenAt,
      totalSeconds: (followed.endAt - t0) / 1000,
      peakServerRssBytes,
    };
  } finally {
    clearInterval(sampler);
  }
}
