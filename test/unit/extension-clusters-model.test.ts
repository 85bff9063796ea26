import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster, Job } from '../../protocol/model';
import { ClustersModel, type ClustersChange } from '../../extension/model/clusters-model';

const owner = { id: 'aaaaaaaa', name: 'me' };
const cluster = (name: string, status: Cluster['status'] = 'UP'): Cluster => ({
  name,
  infra: 'local',
  resources: { infra: 'local', cpus: '2' },
  numNodes: 1,
  status,
  owner,
  launchedAt: 1,
  nodes: [],
});
const job = (c: string, jobId: number, status: Job['status'] = 'RUNNING'): Job => ({ cluster: c, jobId, status, owner, submittedAt: jobId });

test('clusters list sorted by name; a new cluster reshapes the list, an update does not', () => {
  const model = new ClustersModel();
  const changes: ClustersChange[] = [];
  model.onDidChange((c) => changes.push(c));
  model.replaceAll([cluster('b'), cluster('a')]);
  model.upsert(cluster('a', 'STOPPED'));
  model.upsert(cluster('c'));
  assert.deepEqual(model.list().map((c) => c.name), ['a', 'b', 'c']);
  assert.deepEqual(changes, [
    { reshaped: true, clusters: [] },
    { reshaped: false, clusters: ['a'] },
    { reshaped: true, clusters: ['c'] },
  ]);
});

test('jobs are unknown until loaded, then follow job events newest first', () => {
  const model = new ClustersModel();
  model.replaceAll([cluster('a')]);
  model.upsertJob(job('a', 1));
  assert.equal(model.jobs('a'), undefined, 'an event before the first load must not pass for the full list');
  model.setJobs('a', [job('a', 1), job('a', 2)]);
  model.upsertJob(job('a', 3));
  model.upsertJob(job('a', 1, 'SUCCEEDED'));
  assert.deepEqual(model.jobs('a')!.map((j) => [j.jobId, j.status]), [[3, 'RUNNING'], [2, 'RUNNING'], [1, 'SUCCEEDED']]);
});

test('removing a cluster drops its jobs; a refresh can forget loaded jobs', () => {
  const model = new ClustersModel();
  model.replaceAll([cluster('a'), cluster('b')]);
  model.setJobs('a', [job('a', 1)]);
  model.setJobs('b', [job('b', 1)]);
  model.remove('a');
  assert.equal(model.get('a'), undefined);
  assert.equal(model.jobs('a'), undefined);
  model.replaceAll([cluster('b')], { forgetJobs: true });
  assert.equal(model.jobs('b'), undefined);
});
