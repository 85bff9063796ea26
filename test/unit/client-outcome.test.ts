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

/** What finish() writes to stderr, with stdout and stderr as terminals or not. */
function stderrOf(fn: () => void, terminals: boolean): string {
  const write = process.stderr.write;
  const tty = { out: process.stdout.isTTY, err: process.stderr.isTTY };
  let written = '';
  process.stderr.write = ((chunk: string) => ((written += chunk), true)) as typeof process.stderr.write;
  process.stdout.isTTY = terminals;
  process.stderr.isTTY = terminals;
  try {
    fn();
  } finally {
    process.stderr.write = write;
    process.stdout.isTTY = tty.out;
    process.stderr.isTTY = tty.err;
  }
  return written;
}

test("a failed request's error is printed once on a terminal that just showed its log, and always when redirected", () => {
  const failed = request({ status: 'FAILED', error: { type: 'resources_unavailable', message: 'no enabled infra can run it' } });
  assert.equal(stderrOf(() => finish(failed, { logShown: true }), true), '', 'the log on screen ended with that Error line');
  assert.match(stderrOf(() => finish(failed, { logShown: true }), false), /^Error: no enabled infra can run it\n$/);
  assert.match(stderrOf(() => finish(failed), true), /^Error: no enabled infra can run it\n$/, 'without the log shown it is the only place it appears');
});
