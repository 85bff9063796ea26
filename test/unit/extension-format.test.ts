import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestSummary } from '../../protocol/model';
import {
  clusterContextValue,
  describeResources,
  jobContextValue,
  requestAccessibleLabel,
  requestContextValue,
  requestDescription,
  requestIcon,
  stripAnsi,
} from '../../extension/format';

const r: RequestSummary = { id: '0123456789abcdef', name: 'launch', status: 'RUNNING', user: { id: 'bbbbbbbb', name: 'ann' }, clusterName: 'dev', schedule: 'long', createdAt: 0 };

test('context values are compound so menus can match status and ownership', () => {
  assert.equal(requestContextValue(r, true), 'request.running.mine');
  assert.equal(requestContextValue({ ...r, status: 'CANCELLED' }, false), 'request.cancelled.others');
  assert.match(requestContextValue(r, false), /^request\.(pending|running)\./);
  assert.equal(jobContextValue({ cluster: 'a', jobId: 1, status: 'SETTING_UP', owner: r.user, submittedAt: 0 }), 'job.setting_up');
  assert.equal(clusterContextValue({ name: 'a', infra: 'local', resources: { infra: 'local' }, numNodes: 1, status: 'STOPPED', owner: r.user, launchedAt: 0, nodes: [], canStop: true }, true), 'cluster.stopped.mine.stoppable');
  assert.equal(clusterContextValue({ name: 'p', infra: 'ssh/lab', resources: { infra: 'ssh/lab' }, numNodes: 2, status: 'UP', owner: r.user, launchedAt: 0, nodes: [], canStop: false }, false), 'cluster.up.others.fixed');
});

test('each status has its own icon; running spins', () => {
  const ids = (['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const).map((s) => requestIcon(s).id);
  assert.equal(new Set(ids).size, 5);
  assert.match(requestIcon('RUNNING').id, /~spin$/);
});

test('a row names who, when, and why a pending request waits', () => {
  assert.equal(requestDescription(r, false, 60_000), 'ann · 1m ago');
  assert.equal(requestDescription({ ...r, status: 'PENDING', statusMessage: 'waiting for a slot' }, true, 0), 'me · just now · waiting for a slot');
  assert.equal(requestAccessibleLabel(r, true, 0), 'launch dev RUNNING 01234567 me · just now');
});

test('resources read as infra then asks', () => {
  assert.equal(describeResources({ infra: 'slurm/gpu', cpus: '4+', memory: '16', accelerators: 'A100:2' }, 2), 'slurm/gpu, 4+ CPUs, 16 GiB, A100:2, 2 nodes');
  assert.equal(describeResources({}), 'local');
});

test('ANSI escapes are stripped for output channels', () => {
  assert.equal(stripAnsi('\u001b[1;31mred\u001b[0m plain \u001b]0;title\u0007end'), 'red plain end');
});
