// Finished jobs stay in the live state (lowdb) until their cluster is taken down. Does a long-lived
// cluster with many finished jobs make every write, and so every submit, slower? One real job is
// launched, then the server's own record of it is copied to N finished jobs, and the same submit run
// is timed against both states on the same data dir.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiRequest } from '../../protocol/model';
import type { Build } from '../lib/build';
import { BenchServer } from '../lib/server';
import type { Distribution } from '../lib/stats';
import { drive, openConnections, submitStatus } from './load';

const CLUSTER = 'long-lived';

export interface LiveJobsRun {
  finishedJobs: number;
  stateFileBytes: number;
  submitMs: Distribution;
  submitsPerSecond: number;
}

async function timeSubmits(build: Build, dir: string, finishedJobs: number): Promise<LiveJobsRun> {
  const server = await BenchServer.start({ dir, build });
  try {
    const [conn] = await openConnections(server, 1);
    await drive([conn!], { seconds: 5, maxCalls: 50 }, submitStatus);
    const run = await drive([conn!], { seconds: 15, maxCalls: 1000 }, submitStatus);
    conn!.close();
    return { finishedJobs, stateFileBytes: statSync(path.join(server.dataDir, 'state.json')).size, submitMs: run.latencyMs, submitsPerSecond: run.perSecond };
  } finally {
    await server.stop();
  }
}

export async function submitWithFinishedJobs(build: Build, root: string, jobs: number): Promise<LiveJobsRun[]> {
  const dir = path.join(root, 'live-jobs');
  const server = await BenchServer.start({ dir, build });
  try {
    const conn = await server.connect();
    const body = { clusterName: CLUSTER, task: { name: 'one-job', resources: { infra: 'local' }, run: 'echo done' } };
    const { requestId } = await conn.json<{ requestId: string }>('POST', '/api/v1/launch', 202, body);
    const done = await conn.json<ApiRequest>('GET', `/api/requests/${requestId}?wait=60`, 200);
    conn.close();
    if (done.status !== 'SUCCEEDED') throw new Error(`launch on ${CLUSTER} ended ${done.status}: ${JSON.stringify(done.error)}`);
  } finally {
    await server.stop();
  }
  const one = await timeSubmits(build, dir, 1);

  const stateFile = path.join(dir, 'server', 'state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { jobs: Record<string, { jobId: number }[]>; nextJobId: Record<string, number> };
  const job = state.jobs[CLUSTER]?.[0];
  if (!job) throw new Error(`state.json has no job for ${CLUSTER}: the live state's layout changed; update bench/scenarios/live-jobs.ts`);
  state.jobs[CLUSTER] = Array.from({ length: jobs }, (_, i) => ({ ...job, jobId: i + 1 }));
  state.nextJobId[CLUSTER] = jobs + 1;
  writeFileSync(stateFile, JSON.stringify(state));
  const many = await timeSubmits(build, dir, jobs);
  return [one, many];
}
