// Each operation's result is typed once, as a schema in protocol/: the schemas accept what operations
// return and refuse a wrong shape; the client reads results through them (resultOf), so a server that
// sends another shape is an error naming the key, and a submit's body is paired with its operation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATIONS, parseOperationResult, parseSubmission, type OperationName } from '../../protocol/api';
import type { ApiRequest } from '../../protocol/model';
import { ClientError } from '../../client/errors';
import { resultOf } from '../../client/results';
import { aCluster, aJob, aLaunch, aRequest } from '../helpers/builders';

const wellFormed: { [N in OperationName]: unknown } = {
  launch: { clusterName: 'c', jobId: 1, exitCode: 0, jobStatus: 'SUCCEEDED' },
  exec: { clusterName: 'c', jobId: 2, jobStatus: 'RUNNING' },
  start: { clusterName: 'c' },
  stop: { clusterName: 'c' },
  down: { clusterName: 'c' },
  status: { clusters: [aCluster({ ports: [8080], labels: { team: 'ml' } })] },
  queue: { jobs: [aJob({ exitCode: 3, status: 'FAILED' })] },
  cancel_jobs: { cancelled: [1, 2] },
  job_logs: { clusterName: 'c', jobId: 1, jobStatus: 'SUCCEEDED', exitCode: 0 },
  autostop: { clusterName: 'c', idleMinutes: 10, down: true },
  'jobs.launch': { jobId: 3 },
  'jobs.queue': {
    jobs: [
      {
        id: 3,
        owner: { id: 'a11ce000', name: 'alice' },
        status: 'RUNNING',
        tasks: [{ index: 0, status: 'RUNNING', resources: '1x local', recovery: { strategy: 'EAGER_NEXT_REGION', maxRestartsOnErrors: 0, recoverOnExitCodes: [] }, cluster: 'job-3', recoveryCount: 0, restartsOnErrors: 0 }],
        currentTask: 0,
        submittedAt: 1,
        jobDurationMs: 0,
        requestId: 'abcdef12-0000-4000-8000-000000000000',
      },
    ],
  },
  'jobs.cancel': { cancelled: [3] },
  'jobs.logs': { jobId: 3, status: 'SUCCEEDED' },
};

test('every operation has a result schema that accepts what it returns', () => {
  for (const name of Object.keys(OPERATIONS) as OperationName[]) {
    const parsed = parseOperationResult(name, wellFormed[name]);
    assert.ok(parsed.success, `${name}: ${parsed.error?.message}`);
    assert.deepEqual(parsed.data, wellFormed[name], name);
  }
});

test('a result of the wrong shape is refused at its key; keys outside the schema are dropped', () => {
  const bad = parseOperationResult('launch', { clusterName: 'c', jobId: 1, jobStatus: 'DONE' });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error?.issues.map((i) => i.path.join('.')), ['jobStatus']);
  const cluster = parseOperationResult('status', { clusters: [{ ...aCluster(), handle: { pid: 1 } }] });
  assert.ok(cluster.success);
  assert.equal('handle' in cluster.data.clusters[0]!, false, 'a backend handle never reaches a client');
});

test('resultOf gives the result of a request of that operation, parsed', () => {
  const launch = aLaunch({ result: { clusterName: 'c', jobId: 4, jobStatus: 'SUCCEEDED', exitCode: 0 } });
  assert.deepEqual(resultOf(launch, 'launch'), { clusterName: 'c', jobId: 4, jobStatus: 'SUCCEEDED', exitCode: 0 });
  assert.equal(resultOf(launch, 'exec'), undefined, 'another operation: nothing');
  assert.equal(resultOf(aRequest({ name: 'down', body: { clusterName: 'c' } }), 'down'), undefined, 'no result yet');
});

test('resultOf refuses a result the server sent in another shape, naming the key', () => {
  // As it would arrive from the wire: JSON, typed by nobody.
  const fromWire: ApiRequest = JSON.parse(JSON.stringify({ ...aRequest({ name: 'status', body: {} }), result: { clusters: [{ name: 'c' }] } }));
  assert.throws(
    () => resultOf(fromWire, 'status'),
    (err: unknown) => err instanceof ClientError && err.code === 'result_invalid' && /clusters\.0\.infra/.test(err.message),
  );
});

test('a submission pairs the name with its body; issue paths are relative to the body', () => {
  const ok = parseSubmission('stop', { clusterName: 'c' });
  assert.ok(ok.success);
  assert.deepEqual(ok.data, { name: 'stop', body: { clusterName: 'c' } });
  const bad = parseSubmission('launch', { clusterName: 'c', task: { run: 1 } });
  assert.equal(bad.success, false);
  assert.ok(!bad.success && bad.issues.some((i) => i.path.join('.') === 'task.run'), JSON.stringify(!bad.success && bad.issues));
});
