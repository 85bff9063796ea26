// The executor, in process with the real store and the local backend (real processes in a temp data
// dir): long requests queue under the limit and say why, short ones never wait behind them, cancel
// of a PENDING request never starts it, of a RUNNING one ends it within the deadline, and secrets
// never reach what the executor stores or shows.
import { ManagedJobController } from '../../server/jobs/controller';
import { ManagedJobStore } from '../../server/jobs/job-store';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseOperationResult } from '../../protocol/api';
import { isRequestFinished, type ApiRequest } from '../../protocol/model';
import { ClusterService } from '../../server/clusters/cluster-service';
import { Executor } from '../../server/executor';
import { createBackends, type InfraBackends } from '../../server/infra/registry';
import { Metrics } from '../../server/metrics';
import type { Services } from '../../server/operations/context';
import { RequestHistory } from '../../server/store/history';
import { RequestJournal } from '../../server/store/request-journal';
import { RequestStore } from '../../server/store/request-store';
import { StateDb } from '../../server/store/state-db';
import { UploadOwners } from '../../server/upload-owners';
import { UploadStore } from '../../server/uploads';
import { ALICE } from '../helpers/builders';

const alice = { user: ALICE, role: 'user' as const };
let dataDir: string;
let requests: RequestStore;
let backends: InfraBackends;
let executor: Executor;
const clustersUsed = new Set<string>();

before(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-executor-'));
  for (const dir of ['logs', 'job-logs']) mkdirSync(path.join(dataDir, dir));
  const state = await StateDb.open(dataDir);
  requests = new RequestStore(new RequestJournal(path.join(dataDir, 'requests.jsonl')), new RequestHistory(path.join(dataDir, 'history'), 60_000), path.join(dataDir, 'logs'));
  backends = createBackends({ home: dataDir, dataDir });
  const clusters = new ClusterService(state, backends, path.join(dataDir, 'job-logs'));
  const uploads = new UploadStore(path.join(dataDir, 'uploads'));
  const services: Services = {
    requests,
    clusters,
    backends,
    uploads,
    jobs: new ManagedJobController({ clusters, backends, uploads, store: new ManagedJobStore(state, path.join(dataDir, 'managed-jobs')), serverLog: () => undefined }),
    uploadOwners: new UploadOwners(path.join(dataDir, 'upload-owners')),
    cancelRequests: async (which) => executor.cancel(requests.live().filter(which).map((r) => r.id)),
  };
  executor = new Executor(requests, services, new Metrics(), 1);
});

after(async () => {
  // Down every cluster made here (their processes with them), even when a test failed.
  await executor.cancel(requests.live().map((r) => r.id));
  await Promise.all(
    [...clustersUsed].map(async (clusterName) => {
      // A cluster whose launch was cancelled before it provisioned does not exist: nothing to down.
      const down = await executor.submit('down', { clusterName }, alice).catch(() => undefined);
      if (down) await finished(down, 30_000);
    }),
  );
  await backends.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function launch(clusterName: string, run: string, secrets?: Record<string, string>): Promise<ApiRequest> {
  clustersUsed.add(clusterName);
  return executor.submit('launch', { clusterName, task: { run, resources: { infra: 'local' }, ...(secrets ? { secrets } : {}) } }, alice);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const current = (id: string) => requests.get(id)!;
const finished = (request: ApiRequest, timeoutMs?: number) => until(`${request.name} ${request.id} to finish`, () => (isRequestFinished(current(request.id).status) ? current(request.id) : undefined), timeoutMs);

test('long requests queue under the limit and say why; short ones run past them; cancel of a PENDING one never starts it', async () => {
  const a = await launch('exec-a', 'sleep 60');
  const b = await launch('exec-b', 'echo never');
  await until('a to run its job', () => current(a.id).status === 'RUNNING');
  assert.equal(executor.busyLongWorkers, 1);
  assert.equal(current(b.id).status, 'PENDING', 'the second long request waits for the one worker');
  assert.match(current(b.id).statusMessage ?? '', /waiting for a worker: 1 long requests running \(limit 1\), 0 ahead in the queue/);
  assert.equal(executor.queueDepth, 1);

  // A short request does not queue behind the long ones.
  const status = await executor.submit('status', {}, alice);
  const done = await finished(status, 10_000);
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
  assert.equal(current(a.id).status, 'RUNNING');
  assert.equal(current(b.id).status, 'PENDING');

  assert.deepEqual(await executor.cancel([b.id]), [b.id]);
  assert.equal(current(b.id).status, 'CANCELLED');
  assert.equal(current(b.id).startedAt, undefined, 'the cancelled request never started');
  assert.equal(executor.queueDepth, 0);

  // RUNNING: aborted and marked within the deadline (400 ms), its job stopped with it.
  const t0 = Date.now();
  assert.deepEqual(await executor.cancel([a.id]), [a.id]);
  assert.ok(Date.now() - t0 < 1_500, `cancel took ${Date.now() - t0} ms`);
  assert.equal(current(a.id).status, 'CANCELLED');
  await until('the worker to be free', () => executor.busyLongWorkers === 0, 10_000);
  assert.equal(current(b.id).startedAt, undefined, 'freeing the worker did not start the cancelled request');
});

test('secrets in a body are redacted in the stored request, the journal and history; the task still gets them', async () => {
  const secret = 's3cr3t-' + Math.random().toString(36).slice(2);
  const submitted = await launch('exec-s', 'echo "token is ${API_TOKEN:0:7}"', { API_TOKEN: secret });
  assert.ok(!JSON.stringify(submitted).includes(secret), 'the submit answer');
  const done = await finished(submitted, 30_000);
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
  assert.deepEqual(done.name === 'launch' && done.body.task.secrets, { API_TOKEN: '<redacted>' });
  assert.ok(!JSON.stringify(done).includes(secret), 'the finished request');
  assert.ok(!readFileSync(path.join(dataDir, 'requests.jsonl'), 'utf8').includes(secret), 'the journal');
  for (const f of readdirSync(path.join(dataDir, 'history'))) assert.ok(!readFileSync(path.join(dataDir, 'history', f), 'utf8').includes(secret), `history ${f}`);
  assert.ok(readFileSync(requests.logPath(submitted.id), 'utf8').includes('token is s3cr3t-'), 'the job ran with the real value');
});

test('results are stored as their operation schema parses them: a status result carries no backend handle', async () => {
  const launched = await finished(await launch('exec-r', 'true'), 30_000);
  assert.equal(launched.status, 'SUCCEEDED', JSON.stringify(launched.error));
  assert.deepEqual(parseOperationResult('launch', launched.result).data, launched.result);
  const status = await finished(await executor.submit('status', { clusterNames: ['exec-r'] }, alice));
  assert.equal(status.status, 'SUCCEEDED', JSON.stringify(status.error));
  const clusters = status.name === 'status' ? status.result?.clusters : undefined;
  assert.equal(clusters?.length, 1);
  assert.ok(!('handle' in clusters![0]!), 'the stored cluster is the public one');
  assert.deepEqual(parseOperationResult('status', status.result).data, status.result);
});
