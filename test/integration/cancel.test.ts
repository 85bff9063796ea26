import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ApiRequest, Cluster } from '../../protocol/model';
import { eventually, processesWith, startServer, type TestServer } from '../helpers/server';

describe('cancel', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ args: ['--long-workers', '1'] });
  });
  after(() => server.dispose());
  // A failed test must not leave its requests holding the one long worker the next test needs.
  afterEach(() => server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ all: true, allUsers: true }) }));

  const cancel = (ids: string[]) => server.json<{ cancelled: string[] }>('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: ids }) });

  it('stops the whole process tree of a RUNNING launch within half a second', async () => {
    const marker = `skydeck-tree-${process.pid}-${Date.now()}`;
    // A child, a grandchild in a process group of its own, and the job's shell; `exec -a` puts the
    // marker on their command lines so the test can find them.
    const run = `(exec -a ${marker} sleep 301) & (set -m; (exec -a ${marker} sleep 302) &); echo started; exec -a ${marker} sleep 303`;
    const id = await server.submit('launch', { clusterName: 'tree', task: { run } });
    await eventually(async () => (await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text()).includes('started'), 10_000, 'job start');
    // `started` is printed once the background processes are forked; their exec may take a moment more.
    await eventually(() => processesWith(marker).length === 3, 10_000, 'the three job processes');
    const res = await cancel([id.slice(0, 10)]);
    assert.deepEqual(res.body.cancelled, [id]);
    // Cancelled by the time the call answers (how fast that is, bench/ measures).
    const after = await server.json<ApiRequest>(`/api/requests/${id}`);
    assert.equal(after.body.status, 'CANCELLED');
    await eventually(() => processesWith(marker).length === 0, 2000, 'job processes to be gone');
    const jobs = await server.json<{ jobs: { status: string }[] }>('/api/clusters/tree/jobs');
    assert.equal(jobs.body.jobs[0]!.status, 'CANCELLED');
  });

  it('a PENDING request is cancelled at once and never starts', async () => {
    const blocker = await server.submit('launch', { clusterName: 'block', task: { run: 'sleep 60' } });
    const marker = `never-started-${Date.now()}`;
    const pending = await server.submit('launch', { clusterName: 'pend', task: { run: `echo ${marker}` } });
    assert.equal((await server.json<ApiRequest>(`/api/requests/${pending}`)).body.status, 'PENDING');
    assert.deepEqual((await cancel([pending])).body.cancelled, [pending]);
    assert.equal((await server.json<ApiRequest>(`/api/requests/${pending}`)).body.status, 'CANCELLED');
    await cancel([blocker]);
    // The freed worker must not pick the cancelled request up: the one worker takes its queue in order,
    // so once a launch submitted after it has run, the cancelled one has been passed over.
    const probe = await server.waitFor(await server.submit('launch', { clusterName: 'after', task: { run: 'true' } }), 60);
    assert.equal(probe.status, 'SUCCEEDED', JSON.stringify(probe.error));
    assert.equal((await server.json<ApiRequest>(`/api/requests/${pending}`)).body.status, 'CANCELLED');
    assert.equal((await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters.some((c) => c.name === 'pend'), false);
    await server.waitFor(await server.submit('down', { clusterName: 'after' }), 60);
  });

  it('cancelling a finished request cancels nothing', async () => {
    const id = await server.submit('status', {});
    await server.waitFor(id);
    assert.deepEqual((await cancel([id])).body.cancelled, []);
  });

  it('down first cancels every PENDING and RUNNING request on the cluster, then removes it', async () => {
    const marker = `down-${Date.now()}`;
    const running = await server.submit('launch', { clusterName: 'doomed', task: { run: `exec -a ${marker} sleep 120` } });
    await eventually(async () => (await server.json<{ jobs: { status: string }[] }>('/api/clusters/doomed/jobs')).body.jobs?.[0]?.status === 'RUNNING', 30_000, 'job running');
    const queued = await server.submit('exec', { clusterName: 'doomed', task: { run: 'echo queued' } });
    const down = await server.submit('down', { clusterName: 'doomed' });
    const done = await server.waitFor(down, 60);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
    assert.equal((await server.json<ApiRequest>(`/api/requests/${running}`)).body.status, 'CANCELLED');
    assert.equal((await server.json<ApiRequest>(`/api/requests/${queued}`)).body.status, 'CANCELLED');
    assert.equal(processesWith(marker).length, 0);
    assert.equal((await server.json('/api/clusters/doomed/jobs')).status, 404);
    const log = await (await server.fetch(`/api/stream?request_id=${down}&follow=0`)).text();
    assert.match(log, /Cancelled 2 request/);
  });

  it('down while a job is still starting (its workdir being copied) leaves no process behind', async () => {
    const workdir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-big-workdir-'));
    try {
      // Written without holding up this process's event loop (synchronously this took 10 s on a loaded
      // machine, past the server's keep-alive timeout).
      for (let i = 0; i < 3000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => writeFile(path.join(workdir, `file-${i + j}.txt`), 'x'.repeat(100))));
      const marker = `starting-${Date.now()}`;
      await server.submit('launch', { clusterName: 'racy', task: { workdir, run: `exec -a ${marker} sleep 300` } });
      // Usually caught while its workdir is still being copied; on a fast disk it may be running already.
      const starting = async () => (await server.json<{ jobs?: { status: string }[] }>('/api/clusters/racy/jobs')).body.jobs?.[0]?.status;
      await eventually(async () => ['SETTING_UP', 'RUNNING'].includes((await starting()) ?? ''), 30_000, 'job starting');
      const down = await server.submit('down', { clusterName: 'racy' });
      assert.equal((await server.waitFor(down, 60)).status, 'SUCCEEDED');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(processesWith(marker), []);
    } finally {
      rmSync(workdir, { recursive: true, force: true });
    }
  });

  it('cancel all cancels only the caller\'s requests unless allUsers is set', async () => {
    const other = { id: '07e57000', name: 'other' };
    const mine = await server.submit('launch', { clusterName: 'mine', task: { run: 'sleep 60' } });
    const theirs = await server.submit('launch', { clusterName: 'theirs', task: { run: 'sleep 60' } }, other);
    const res = await server.json<{ cancelled: string[] }>('/api/cancel', { method: 'POST', body: JSON.stringify({ all: true }) });
    assert.ok(res.body.cancelled.includes(mine));
    assert.ok(!res.body.cancelled.includes(theirs));
    await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [theirs] }), user: other });
  });
});
