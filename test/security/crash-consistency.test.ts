// What a crash, a kill -9 or a power loss leaves behind never stops the server or loses track of work.
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ApiClient } from '../../client/api-client';
import type { ApiRequest } from '../../protocol/model';
import { ALICE, eventually, processesWith, startServer, type TestServer } from '../helpers/server';

const logOf = async (server: TestServer, id: string) => (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();

/**
 * Leaves the data dir as a kill -9 in the instant after a job's spawn does: the job is stored without
 * its handle (pid), and its request without the checkpoint (job id, log offset).
 */
function forgetSpawn(dataDir: string, requestId: string): void {
  const stateFile = path.join(dataDir, 'state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { jobs: Record<string, { requestId: string; handle?: unknown }[]> };
  for (const jobs of Object.values(state.jobs)) for (const job of jobs) if (job.requestId === requestId) delete job.handle;
  writeFileSync(stateFile, JSON.stringify(state));
  const journal = path.join(dataDir, 'requests.jsonl');
  const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ApiRequest & { logHeaderBytes?: number });
  const last = lines.filter((r) => r.id === requestId).at(-1)!;
  // Nothing of the job's output had been copied into the request log yet.
  truncateSync(path.join(dataDir, 'logs', `${requestId}.log`), last.logHeaderBytes);
  delete last.result;
  delete last.logHeaderBytes;
  appendFileSync(journal, JSON.stringify(last) + '\n');
}

/** Every file under `dir` whose content holds `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .filter((f) => readFileSync(f, 'utf8').includes(needle));
}

describe('crash consistency', () => {
  for (const [what, content] of [
    ['empty (a power loss before the write reached the disk)', ''],
    ['cut short', '{"schemaVersion":1,"clusters":{"a":{"name":"a","inf'],
    ['not an object', '[1,2,3]'],
  ] as const) {
    it(`a state.json that is ${what} does not stop the server from starting, and is kept aside`, async () => {
      let server: TestServer = await startServer();
      try {
        await server.stop();
        writeFileSync(path.join(server.dataDir, 'state.json'), content);
        server = await startServer({ home: server.home });
        assert.equal((await server.fetch('/api/health')).status, 200);
        assert.match(server.output(), /state\.json could not be read .*kept as .*state\.json\.unreadable-\d+/);
        const aside = readdirSync(server.dataDir).find((f) => f.startsWith('state.json.unreadable-'));
        assert.ok(aside);
        assert.equal(readFileSync(path.join(server.dataDir, aside), 'utf8'), content, 'the unreadable file is kept as it was');
        const id = await server.submit('launch', { clusterName: 'after', task: { run: 'echo ok' } });
        assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
      } finally {
        await server.dispose();
      }
    });
  }

  it('a job the server was killed just after spawning is taken back, and its request follows it to the end', async () => {
    let server = await startServer();
    try {
      const id = await server.submit('launch', { clusterName: 'spawned', task: { run: 'for i in $(seq 1 20); do echo "tick $i"; sleep 0.1; done' } });
      await eventually(async () => (await logOf(server, id)).includes('tick 2'), 15_000, 'job output');
      await server.kill9();
      forgetSpawn(server.dataDir, id);
      server = await startServer({ home: server.home });
      const done = await server.waitFor(id, 30);
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
      const ticks = (await logOf(server, id)).split('\n').filter((l) => /^tick \d+$/.test(l));
      assert.deepEqual(ticks, Array.from({ length: 20 }, (_, i) => `tick ${i + 1}`), 'every line once, in order');
      const jobs = (await server.json<{ jobs: { status: string; exitCode?: number }[] }>('/api/clusters/spawned/jobs')).body.jobs;
      assert.deepEqual(jobs.map((j) => [j.status, j.exitCode]), [['SUCCEEDED', 0]]);
    } finally {
      await server.dispose();
    }
  });

  it('a still-running job the server lost track of is tracked again, so down stops it (no orphan)', async () => {
    let server = await startServer();
    const marker = `orphan-check-${process.pid}-${Date.now()}`;
    try {
      const id = await server.submit('launch', { clusterName: 'lost', task: { run: `echo started; exec -a ${marker} sleep 600` } });
      await eventually(async () => processesWith(marker).length > 0, 15_000, 'the job process');
      await server.kill9();
      forgetSpawn(server.dataDir, id);
      server = await startServer({ home: server.home });
      const jobs = (await server.json<{ jobs: { status: string }[] }>('/api/clusters/lost/jobs')).body.jobs;
      assert.deepEqual(jobs.map((j) => j.status), ['RUNNING'], 'the job is running and tracked, not FAILED');
      assert.equal((await server.json<ApiRequest>(`/api/requests/${id}`)).body.status, 'RUNNING', 'its request follows it');
      const down = await server.submit('down', { clusterName: 'lost' });
      assert.equal((await server.waitFor(down, 30)).status, 'SUCCEEDED');
      await eventually(() => processesWith(marker).length === 0, 10_000, 'the job process to be stopped');
      assert.equal((await server.waitFor(id, 10)).status, 'CANCELLED');
    } finally {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
      await server.dispose();
    }
  });

  it("a job's secrets are removed from disk when it ends, whether it exits or is cancelled", async () => {
    const server = await startServer();
    try {
      const secret = `sekrit-${Date.now()}`;
      const ran = await server.submit('launch', { clusterName: 'sec', task: { run: 'echo "token has ${#TOKEN} chars"', secrets: { TOKEN: secret } } });
      assert.equal((await server.waitFor(ran)).status, 'SUCCEEDED');
      assert.match(await logOf(server, ran), /token has \d+ chars/);
      const cancelled = await server.submit('exec', { clusterName: 'sec', task: { run: 'echo up; sleep 600', secrets: { TOKEN: secret } } });
      await eventually(async () => (await logOf(server, cancelled)).includes('up'), 15_000, 'the second job');
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [cancelled] }) });
      assert.equal((await server.waitFor(cancelled)).status, 'CANCELLED');
      await eventually(() => filesHolding(server.dataDir, secret).length === 0, 5000, `no file holding the secret (${filesHolding(server.dataDir, secret).join(', ')})`);
    } finally {
      await server.dispose();
    }
  });

  it('more than ten requests following one job raise no listener-leak warning', async () => {
    const server = await startServer();
    try {
      const id = await server.submit('launch', { clusterName: 'many', task: { run: 'sleep 1; echo finished' } });
      await eventually(async () => (await logOf(server, id)).includes('submitted'), 15_000, 'the job');
      const followers = await Promise.all(Array.from({ length: 12 }, () => server.submit('job_logs', { clusterName: 'many', jobId: 1, follow: true })));
      for (const f of followers) assert.equal((await server.waitFor(f, 30)).status, 'SUCCEEDED');
      assert.doesNotMatch(server.output(), /MaxListenersExceededWarning/);
    } finally {
      await server.dispose();
    }
  });

  it('exec onto a cluster left INIT by an interrupted provisioning says to launch again, as the cluster does', async () => {
    let server = await startServer();
    try {
      assert.equal((await server.waitFor(await server.submit('launch', { clusterName: 'half', task: { run: 'true' } }))).status, 'SUCCEEDED');
      await server.kill9();
      const stateFile = path.join(server.dataDir, 'state.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { clusters: Record<string, { status: string }> };
      state.clusters.half!.status = 'INIT';
      writeFileSync(stateFile, JSON.stringify(state));
      server = await startServer({ home: server.home });
      const cluster = (await server.json<{ clusters: { name: string; statusMessage?: string }[] }>('/api/clusters')).body.clusters.find((c) => c.name === 'half');
      assert.match(cluster?.statusMessage ?? '', /launch again/);
      const exec = await server.waitFor(await server.submit('exec', { clusterName: 'half', task: { run: 'true' } }));
      assert.equal(exec.status, 'FAILED');
      assert.match(exec.error!.message, /launch again/);
    } finally {
      await server.dispose();
    }
  });

  it('a submit whose connection drops before the answer is retried once with its key, and the work runs once', async () => {
    const server = await startServer();
    // A proxy that passes the first submit to the server, then cuts the client off before the answer.
    const target = new URL(server.url);
    let connections = 0;
    const proxy = net.createServer((client) => {
      const first = ++connections === 1;
      const upstream = net.connect(Number(target.port), target.hostname);
      client.pipe(upstream);
      if (first) upstream.once('data', () => (client.destroy(), upstream.destroy()));
      else upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { authorization } = server.headers();
    const client = new ApiClient({ endpoint: { url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, authorization, local: true, source: 'override' }, user: ALICE });
    try {
      const id = await client.submit('launch', { clusterName: 'once', task: { run: 'echo ran-once' } });
      assert.equal(connections, 2, 'the submit was sent again after the drop');
      assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
      const launches = (await server.json<{ requests: { name: string }[] }>('/api/requests?all=1')).body.requests.filter((r) => r.name === 'launch');
      assert.equal(launches.length, 1, 'one launch, not two');
      // The same key from another user is another submit.
      const headers = { 'idempotency-key': 'k-0123456789', 'content-type': 'application/json' };
      const a = await server.json<{ requestId: string }>('/api/v1/status', { method: 'POST', body: '{}', headers });
      const b = await server.json<{ requestId: string }>('/api/v1/status', { method: 'POST', body: '{}', headers });
      const c = await server.json<{ requestId: string }>('/api/v1/status', { method: 'POST', body: '{}', headers, user: { id: 'b0b00000', name: 'bob' } });
      assert.equal(a.body.requestId, b.body.requestId);
      assert.notEqual(a.body.requestId, c.body.requestId);
    } finally {
      client.close();
      proxy.close();
      await server.dispose();
    }
  });
});
