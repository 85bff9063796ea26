import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiRequest, RequestSummary } from '../../protocol/model';
import { ALICE, startServer, type TestServer } from '../helpers/server';

const BOB = { id: 'b0b00000', name: 'bob' };

describe('request lifecycle', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('answers health with version, api version and the caller', async () => {
    const { status, body } = await server.json<{ status: string; apiVersion: number; user: { name: string } }>('/api/health');
    assert.equal(status, 200);
    assert.equal(body.status, 'healthy');
    assert.equal(body.apiVersion, 1);
    assert.equal(body.user.name, 'alice');
  });

  it('a launch goes PENDING -> RUNNING -> SUCCEEDED, with its log and result', async () => {
    const id = await server.submit('launch', {
      clusterName: 'life',
      task: { name: 'hello', envs: { GREETING: 'hi' }, setup: 'echo "setup rank=$SKYPILOT_SETUP_NODE_RANK"', run: 'echo "$GREETING from rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES on $SKYPILOT_NODE_IPS"; sleep 0.3' },
    });
    const first = await server.json<ApiRequest>(`/api/requests/${id}`);
    assert.ok(['PENDING', 'RUNNING'].includes(first.body.status), first.body.status);
    const done = await server.waitFor(id);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
    assert.deepEqual(done.result, { clusterName: 'life', jobId: 1, exitCode: 0, jobStatus: 'SUCCEEDED' });
    assert.ok(done.startedAt! >= done.createdAt && done.finishedAt! >= done.startedAt!);
    const log = await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
    assert.match(log, /setup rank=0/);
    assert.match(log, /hi from rank 0 of 1 on 127\.0\.0\.1/);
    assert.match(log, /Considered resources/);
  });

  it('a job that exits non-zero fails the request and reports the exit code', async () => {
    const id = await server.submit('launch', { clusterName: 'life', task: { run: 'echo about to fail; exit 7' } });
    const done = await server.waitFor(id);
    assert.equal(done.status, 'FAILED');
    assert.equal((done.result as { exitCode: number }).exitCode, 7);
    assert.equal(done.error?.type, 'job_failed');
    assert.match(done.error!.message, /exit/);
  });

  it('a failing setup fails the job without running run', async () => {
    const id = await server.submit('launch', { clusterName: 'life', task: { setup: 'exit 3', run: 'echo SHOULD-NOT-RUN' } });
    const done = await server.waitFor(id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error!.message, /setup exited with code 3/);
    const log = await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
    assert.doesNotMatch(log, /SHOULD-NOT-RUN/);
  });

  it('resolves unique id prefixes and refuses ambiguous, unknown and malformed ones', async () => {
    const id = await server.submit('status', {});
    await server.waitFor(id);
    const byPrefix = await server.json<ApiRequest>(`/api/requests/${id.slice(0, 8)}`);
    assert.equal(byPrefix.status, 200);
    assert.equal(byPrefix.body.id, id);
    const unknown = await server.json<{ error: { code: string } }>('/api/requests/ffffffff-ffff');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    const traversal = await server.json<{ error: { code: string } }>(`/api/requests/${encodeURIComponent('../../etc/passwd')}`);
    assert.equal(traversal.status, 400);
    // With enough requests some one-character prefix is shared by two of them.
    const ids = await Promise.all(Array.from({ length: 20 }, () => server.submit('status', {})));
    const counts = new Map<string, number>();
    for (const i of [...ids, id]) counts.set(i[0]!, (counts.get(i[0]!) ?? 0) + 1);
    const shared = [...counts].find(([, n]) => n > 1)![0];
    const ambiguous = await server.json<{ error: { code: string } }>(`/api/requests/${shared}`);
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.body.error.code, 'ambiguous_id');
  });

  it('lists ongoing requests by default and finished ones with all=1, filtered by user', async () => {
    const bobs = await server.submit('launch', { clusterName: 'bobs', task: { run: 'sleep 5' } }, BOB);
    try {
      const ongoing = await server.json<{ requests: RequestSummary[] }>('/api/requests');
      assert.ok(ongoing.body.requests.some((r) => r.id === bobs));
      assert.ok(ongoing.body.requests.every((r) => !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status)));
      const all = await server.json<{ requests: RequestSummary[] }>('/api/requests?all=1');
      assert.ok(all.body.requests.some((r) => r.status === 'SUCCEEDED'));
      const mine = await server.json<{ requests: RequestSummary[] }>(`/api/requests?all=1&user=${ALICE.id}`);
      assert.ok(mine.body.requests.length > 0 && mine.body.requests.every((r) => r.user.id === ALICE.id));
      const sorted = all.body.requests.map((r) => r.createdAt);
      assert.deepEqual(sorted, [...sorted].sort((a, b) => b - a));
      assert.equal((await server.json('/api/requests?status=NOPE')).status, 400);
    } finally {
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [bobs] }) });
    }
  });

  it('short requests never wait behind long ones', async () => {
    const serverWithOneWorker = await startServer({ args: ['--long-workers', '1'] });
    try {
      const long1 = await serverWithOneWorker.submit('launch', { clusterName: 'busy', task: { run: 'sleep 30' } });
      const long2 = await serverWithOneWorker.submit('launch', { clusterName: 'busy2', task: { run: 'sleep 30' } });
      const queued = await serverWithOneWorker.json<ApiRequest>(`/api/requests/${long2}`);
      assert.equal(queued.body.status, 'PENDING');
      assert.match(queued.body.statusMessage ?? '', /waiting for a worker/);
      const status = await serverWithOneWorker.submit('status', {});
      const done = await serverWithOneWorker.waitFor(status, 5);
      assert.equal(done.status, 'SUCCEEDED');
      await serverWithOneWorker.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [long1, long2] }) });
    } finally {
      await serverWithOneWorker.dispose();
    }
  });
});
