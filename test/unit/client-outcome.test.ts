import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finish } from '../../client/cli/outcome';
import { aLaunch as request, aRequest } from '../helpers/builders';

// finish() writes its message to stderr; keep test output clean.
function quietly<T>(fn: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

test('a launch exits with its job exit code', () => {
  assert.equal(quietly(() => finish(request({ result: { clusterName: 'c', jobId: 1, exitCode: 0, jobStatus: 'SUCCEEDED' } }))), 0);
  assert.equal(quietly(() => finish(request({ status: 'FAILED', error: { type: 'job_failed', message: 'x' }, result: { clusterName: 'c', jobId: 1, exitCode: 3, jobStatus: 'FAILED' } }))), 3);
  assert.equal(quietly(() => finish(request({ result: { clusterName: 'c', jobId: 1, exitCode: 7, jobStatus: 'FAILED' } }))), 7);
});

test('a failed or cancelled request without a job result exits 1', () => {
  assert.equal(quietly(() => finish(request({ status: 'FAILED', error: { type: 'internal', message: 'no' } }))), 1);
  assert.equal(quietly(() => finish(request({ status: 'CANCELLED' }))), 1);
});

test('a detached run exits 0 once the job has started', () => {
  assert.equal(quietly(() => finish(request({ detachRun: true, result: { clusterName: 'c', jobId: 2, jobStatus: 'RUNNING' } }))), 0);
});

test('other operations exit 0 when they succeed', () => {
  assert.equal(quietly(() => finish(aRequest({ name: 'down', body: { clusterName: 'c' }, result: { clusterName: 'c' } }))), 0);
});
