import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestSummary } from '../../protocol/model';
import { RequestsModel, type RequestsChange } from '../../extension/model/requests-model';

const me = { id: 'aaaaaaaa', name: 'me' };
const other = { id: 'bbbbbbbb', name: 'other' };
let clock = 1_000;
function request(id: string, status: RequestSummary['status'], user = me): RequestSummary {
  return { id, name: 'launch', status, user, clusterName: 'c1', schedule: 'long', createdAt: clock++ };
}

test('the snapshot replaces everything and reports what was added and removed', () => {
  const model = new RequestsModel();
  model.userId = me.id;
  model.replaceAll([request('r1', 'RUNNING'), request('r2', 'PENDING')]);
  const changes: RequestsChange[] = [];
  model.onDidChange((c) => changes.push(c));
  model.replaceAll([request('r2', 'RUNNING'), request('r3', 'PENDING')]);
  assert.deepEqual(changes, [{ added: ['r3'], updated: ['r2'], removed: ['r1'] }]);
  assert.deepEqual(model.visible().map((r) => r.id), ['r3', 'r2']);
});

test('an update of a known request only redraws that row', () => {
  const model = new RequestsModel();
  model.upsert(request('r1', 'PENDING'));
  const changes: RequestsChange[] = [];
  model.onDidChange((c) => changes.push(c));
  model.upsert({ ...model.get('r1')!, status: 'RUNNING' });
  assert.deepEqual(changes, [{ added: [], updated: ['r1'], removed: [] }]);
});

test('a late event never moves a finished request back to running', () => {
  const model = new RequestsModel();
  const r = request('r1', 'CANCELLED');
  model.upsert(r);
  model.upsert({ ...r, status: 'RUNNING' });
  assert.equal(model.get('r1')!.status, 'CANCELLED');
});

test('the ongoing filter hides finished requests and the mine filter hides other users', () => {
  const model = new RequestsModel({ showFinished: false, allUsers: false });
  model.userId = me.id;
  model.replaceAll([request('done', 'SUCCEEDED'), request('mine', 'RUNNING'), request('theirs', 'RUNNING', other)]);
  assert.deepEqual(model.visible().map((r) => r.id), ['mine']);
  model.setFilter({ allUsers: true });
  assert.deepEqual(model.visible().map((r) => r.id), ['theirs', 'mine']);
  model.setFilter({ showFinished: true });
  assert.deepEqual(model.visible().map((r) => r.id), ['theirs', 'mine', 'done']);
  assert.deepEqual(model.ongoing().map((r) => r.id), ['theirs', 'mine']);
  assert.equal(model.isMine(model.get('theirs')!), false);
});

test('finished history is bounded, oldest finished dropped first', () => {
  const model = new RequestsModel({ showFinished: true, allUsers: true });
  const many = Array.from({ length: 520 }, (_, i) => ({ ...request(`f${i}`, 'SUCCEEDED'), finishedAt: i }));
  model.replaceAll([...many, request('live', 'RUNNING')]);
  assert.equal(model.size, 501);
  assert.equal(model.get('f0'), undefined);
  assert.ok(model.get('f519'));
  assert.ok(model.get('live'));
});

test('groups the visible requests by cluster (no-cluster ones last) or by status (running first)', () => {
  const model = new RequestsModel({ showFinished: true, allUsers: true });
  const at = (r: RequestSummary, clusterName: string | undefined, createdAt: number) => ({ ...r, clusterName, createdAt });
  model.replaceAll([at(request('a', 'SUCCEEDED'), 'beta', 1), at(request('b', 'RUNNING'), 'alpha', 2), at(request('c', 'PENDING'), undefined, 3), at(request('d', 'FAILED'), 'beta', 4)]);
  model.setFilter({ grouping: 'cluster' });
  assert.deepEqual(
    model.groups().map((g) => [g.key, g.requests.map((r) => r.id)]),
    [['alpha', ['b']], ['beta', ['d', 'a']], ['', ['c']]],
  );
  model.setFilter({ grouping: 'status' });
  assert.deepEqual(
    model.groups().map((g) => g.key),
    ['RUNNING', 'PENDING', 'FAILED', 'SUCCEEDED'],
  );
  model.setFilter({ grouping: 'flat' });
  assert.deepEqual(model.groups().map((g) => g.requests.map((r) => r.id)), [['d', 'c', 'b', 'a']]);
});
