import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ApiRequest } from '../../protocol/model';
import type { LiveRequest } from '../../server/store/request-journal';
import { spawnSync } from 'node:child_process';
import { eventually, SERVER_JS, startServer, type TestServer } from '../helpers/server';

const logOf = async (server: TestServer, id: string) => (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
const jobOf = async (server: TestServer, cluster: string, jobId = 1) =>
  (await server.json<{ jobs: { jobId: number; status: string; exitCode?: number }[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs.find((j) => j.jobId === jobId);

/**
 * Leaves the data dir of a stopped server as a kill -9 in the instant before a finished launch was marked
 * finished: its log whole (the job's output, then its verdict or its error), its job finished, and the
 * request RUNNING in the journal as it last was there, not yet in history. Returns that request.
 */
function unfinish(dataDir: string, requestId: string): LiveRequest {
  const journal = path.join(dataDir, 'requests.jsonl');
  const states = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LiveRequest | { id: string; removed: true });
  const last = states.filter((r): r is LiveRequest => r.id === requestId && !('removed' in r)).at(-1)!;
  appendFileSync(journal, JSON.stringify(last) + '\n');
  const history = path.join(dataDir, 'history');
  for (const segment of readdirSync(history)) {
    const file = path.join(history, segment);
    const kept = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && (JSON.parse(l) as ApiRequest).id !== requestId);
    writeFileSync(file, kept.map((l) => l + '\n').join(''));
  }
  return last;
}

/** Where the server keeps the log of the job a request started (state.json's job record). */
function jobLogOf(dataDir: string, requestId: string): string {
  const state = JSON.parse(readFileSync(path.join(dataDir, 'state.json'), 'utf8')) as { jobs: Record<string, { requestId?: string; logPath: string }[]> };
  return Object.values(state.jobs).flat().find((j) => j.requestId === requestId)!.logPath;
}

/** A job that prints until it is stopped, then five lines more as it cleans up (after its request's copy stopped). */
const CLEANS_UP_ON_CANCEL = `trap 'for i in 1 2 3 4 5; do echo "cleaned up $i"; done; exit 143' TERM; for i in $(seq 1 600); do echo "line $i"; sleep 0.02; done`;

describe('restart recovery (kill -9 the server mid-job)', () => {
  it('a job that finished while the server was down is recorded with its real exit code and full log', async () => {
    let server = await startServer();
    try {
      const id = await server.submit('launch', { clusterName: 'rec', task: { run: 'for i in $(seq 1 12); do echo "line $i"; sleep 0.1; done; exit 3' } });
      await eventually(async () => (await logOf(server, id)).includes('line 2'), 10_000, 'job output');
      await server.kill9();
      await new Promise((r) => setTimeout(r, 1800)); // the job ends while no server runs
      server = await startServer({ home: server.home });
      const done = await server.waitFor(id, 20);
      assert.equal(done.status, 'FAILED');
      assert.equal((done.result as { exitCode: number }).exitCode, 3);
      const job = await jobOf(server, 'rec');
      assert.equal(job?.status, 'FAILED');
      assert.equal(job?.exitCode, 3);
      const lines = (await logOf(server, id)).split('\n').filter((l) => /^line \d+$/.test(l));
      assert.deepEqual(lines, Array.from({ length: 12 }, (_, i) => `line ${i + 1}`), 'every line exactly once, in order');
    } finally {
      await server.dispose();
    }
  });

  it('launches stopped after their last line but before they were marked finished end as they would have, their logs unchanged', async () => {
    let server = await startServer();
    try {
      const run = (exit: number) => `for i in $(seq 1 5); do echo "line $i"; done; exit ${exit}`;
      const ids = { SUCCEEDED: await server.submit('launch', { clusterName: 'ok', task: { run: run(0) } }), FAILED: await server.submit('launch', { clusterName: 'bad', task: { run: run(3) } }) };
      const before: Record<string, string> = {};
      for (const [status, id] of Object.entries(ids)) {
        assert.equal((await server.waitFor(id, 30)).status, status);
        before[id] = await logOf(server, id);
      }
      assert.match(before[ids.SUCCEEDED]!, /\nline 5\n✓ Job 1 on ok succeeded\.\n$/);
      assert.match(before[ids.FAILED]!, /\nline 5\nError: job 1 on bad failed: run exited with code 3\n$/);
      await server.kill9();
      for (const id of Object.values(ids)) {
        const stored = unfinish(server.dataDir, id);
        assert.equal(stored.status, 'RUNNING');
        // The request log is ahead of its copy of the job's by its last line: where the resumed copy would start.
        const jobLog = readFileSync(jobLogOf(server.dataDir, id));
        assert.ok(Buffer.byteLength(before[id]!) - stored.logHeaderBytes! > jobLog.length, 'the request log holds more than its header and the job log');
      }

      server = await startServer({ home: server.home });
      for (const [status, id] of Object.entries(ids)) {
        // Resumed and finished at once: a copy that starts past the job log's end waits for bytes that never come.
        const done = await server.waitFor(id, 8);
        assert.equal(done.status, status, `the resumed launch is ${done.status} (${done.statusMessage ?? ''})`);
        assert.equal((done.result as { exitCode: number }).exitCode, status === 'SUCCEEDED' ? 0 : 3);
        assert.equal(await logOf(server, id), before[id], 'the log is as it was before the stop: no line missing or written twice');
      }
    } finally {
      await server.dispose();
    }
  });

  it('launches stopped after their cancel but before they were marked CANCELLED end CANCELLED, their logs unchanged', async () => {
    let server = await startServer();
    try {
      // One stopped after its 'Request cancelled.' line, one in the instant before that line reached its log.
      const ids = { lineWritten: await server.submit('launch', { clusterName: 'stop', task: { run: CLEANS_UP_ON_CANCEL } }), lineLost: await server.submit('launch', { clusterName: 'stop2', task: { run: CLEANS_UP_ON_CANCEL } }) };
      const before: Record<string, string> = {};
      for (const id of Object.values(ids)) {
        await eventually(async () => (await logOf(server, id)).includes('line 3\n'), 10_000, 'job output');
        await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [id] }) });
        assert.equal((await server.waitFor(id, 10)).status, 'CANCELLED');
        before[id] = await logOf(server, id);
        assert.match(before[id]!, /\nline \d+\nRequest cancelled\.\n$/);
      }
      await server.kill9();
      for (const id of Object.values(ids)) {
        const stored = unfinish(server.dataDir, id);
        // The request's own line stands after part of the job's output: the job log holds more (its clean-up).
        const copied = Buffer.from(before[id]!).subarray(stored.logHeaderBytes).toString().slice(0, -'Request cancelled.\n'.length);
        const jobLog = readFileSync(jobLogOf(server.dataDir, id), 'utf8');
        assert.ok(jobLog.startsWith(copied) && jobLog.endsWith('cleaned up 5\n') && !copied.includes('cleaned up'), 'the job wrote on after the copy stopped');
      }
      const lost = path.join(server.dataDir, 'logs', `${ids.lineLost}.log`);
      truncateSync(lost, statSync(lost).size - 'Request cancelled.\n'.length);

      server = await startServer({ home: server.home });
      for (const id of Object.values(ids)) {
        const done = await server.waitFor(id, 8);
        assert.equal(done.status, 'CANCELLED', `the resumed launch is ${done.status} (${done.error?.message ?? ''})`);
        assert.equal(await logOf(server, id), before[id], 'the log is as it was: no job output skipped, none added after the cancel, its last line once');
      }
    } finally {
      await server.dispose();
    }
  });

  it('a request following a job that still runs carries on after the restart and ends with it', async () => {
    let server = await startServer({ args: ['--long-workers', '1'] });
    try {
      const id = await server.submit('launch', { clusterName: 'live', task: { run: 'for i in $(seq 1 30); do echo "tick $i"; sleep 0.1; done' } });
      await eventually(async () => (await logOf(server, id)).includes('tick 2'), 10_000, 'job output');
      const pending = await server.submit('launch', { clusterName: 'later', task: { run: 'echo later-ran' } });
      assert.equal((await server.json<ApiRequest>(`/api/requests/${pending}`)).body.status, 'PENDING');
      const follower = await server.submit('job_logs', { clusterName: 'live', jobId: 1, follow: true });
      await eventually(async () => (await server.json<ApiRequest>(`/api/requests/${follower}`)).body.status === 'RUNNING', 5000, 'job_logs running');
      await new Promise((r) => setTimeout(r, 200)); // let the RUNNING state reach the store file
      await server.kill9();
      server = await startServer({ home: server.home, args: ['--long-workers', '1'] });
      // The follower's worker is gone: failed with a reason, not left RUNNING.
      const orphan = await server.json<ApiRequest>(`/api/requests/${follower}`);
      assert.equal(orphan.body.status, 'FAILED');
      assert.match(orphan.body.error!.message, /stopped while this request was running/);
      const done = await server.waitFor(id, 20);
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
      const ticks = (await logOf(server, id)).split('\n').filter((l) => /^tick \d+$/.test(l));
      assert.deepEqual(ticks, Array.from({ length: 30 }, (_, i) => `tick ${i + 1}`));
      // The PENDING request was queued again and ran once the worker was free.
      const later = await server.waitFor(pending, 20);
      assert.equal(later.status, 'SUCCEEDED');
      assert.match(await logOf(server, pending), /later-ran/);
    } finally {
      await server.dispose();
    }
  });
});

describe('retention', () => {
  it('removes finished requests and their logs once the retention window has passed', async () => {
    const server = await startServer({ args: ['--request-retention', '2s'] });
    try {
      const id = await server.submit('launch', { clusterName: 'ret', task: { run: 'echo kept-for-a-while' } });
      await server.waitFor(id);
      assert.equal((await server.json(`/api/requests/${id}`)).status, 200);
      const running = await server.submit('launch', { clusterName: 'ret2', task: { run: 'sleep 8' } });
      await eventually(async () => (await server.json(`/api/requests/${id}`)).status === 404, 10_000, 'expiry');
      const log = await server.fetch(`/api/stream?request_id=${id}&follow=0`);
      assert.equal(log.status, 404);
      // Unfinished requests are never expired.
      assert.equal((await server.json<ApiRequest>(`/api/requests/${running}`)).body.status, 'RUNNING');
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [running] }) });
    } finally {
      await server.dispose();
    }
  });
});

describe('one server per data dir', () => {
  it('refuses to start a second server on a data dir in use, and takes over a stale lock after kill -9', async () => {
    let server = await startServer();
    try {
      const second = spawnSync(process.execPath, [SERVER_JS, '--port', '0', '--data-dir', server.dataDir], { encoding: 'utf8', env: { ...process.env, SKYDECK_HOME: server.home }, timeout: 20_000 });
      assert.equal(second.status, 2);
      assert.match(second.stderr, new RegExp(`another SkyDeck server \\(pid ${server.process.pid}\\) is using the data dir`));
      await server.kill9();
      server = await startServer({ home: server.home });
      assert.equal((await server.json('/api/health')).status, 200);
    } finally {
      await server.dispose();
    }
  });
});
