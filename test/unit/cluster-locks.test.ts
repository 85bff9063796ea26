// Cluster locks: one holder per cluster, waiters served in arrival order and told who holds the lock,
// clusters independent of each other, a cancelled waiter out of the queue at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterLocks } from '../../server/clusters/cluster-locks';

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

test('one holder per cluster; waiters get the lock in arrival order and hear who holds it', async () => {
  const locks = new ClusterLocks();
  const order: string[] = [];
  const heard: Record<string, string> = {};
  const take = (holder: string) =>
    locks.acquire('c', holder, { onWait: (by) => (heard[holder] = by) }).then((release) => {
      order.push(holder);
      return release;
    });
  const releaseA = await take('req-a');
  assert.equal(locks.isHeld('c'), true);
  const b = take('req-b');
  const c = take('req-c');
  const d = take('req-d');
  await settle();
  assert.deepEqual(order, ['req-a'], 'nobody else holds it while req-a does');
  assert.deepEqual({ ...heard }, { 'req-b': 'req-a', 'req-c': 'req-a', 'req-d': 'req-a' }, 'each waiter is told who holds it');
  assert.equal('req-a' in heard, false, 'a free lock is taken without waiting');

  releaseA();
  const releaseB = await b;
  await settle();
  assert.deepEqual(order, ['req-a', 'req-b'], 'only the first waiter got it');
  // A newcomer now hears the current holder, and queues behind the earlier waiters.
  const e = take('req-e');
  await settle();
  assert.equal(heard['req-e'], 'req-b');
  releaseB();
  (await c)();
  (await d)();
  (await e)();
  assert.deepEqual(order, ['req-a', 'req-b', 'req-c', 'req-d', 'req-e']);
  assert.equal(locks.isHeld('c'), false, 'the last release frees the cluster');
});

test('different clusters do not block each other', async () => {
  const locks = new ClusterLocks();
  const releaseC1 = await locks.acquire('c1', 'req-a');
  let waited = false;
  const releaseC2 = await locks.acquire('c2', 'req-b', { onWait: () => (waited = true) });
  assert.equal(waited, false);
  assert.equal(locks.isHeld('c1') && locks.isHeld('c2'), true);
  releaseC2();
  assert.equal(locks.isHeld('c2'), false);
  assert.equal(locks.isHeld('c1'), true, 'releasing c2 leaves c1 held');
  releaseC1();
});

test('a waiter cancelled while waiting leaves the queue and never gets the lock', async () => {
  const locks = new ClusterLocks();
  const releaseA = await locks.acquire('c', 'req-a');
  const controller = new AbortController();
  let bGot = false;
  const b = locks.acquire('c', 'req-b', { signal: controller.signal }).then(() => (bGot = true));
  const c = locks.acquire('c', 'req-c');
  controller.abort(new Error('cancelled by alice'));
  await assert.rejects(b, /cancelled by alice/);
  releaseA();
  const releaseC = await c;
  assert.equal(bGot, false, 'the cancelled waiter was skipped');
  releaseC();
  assert.equal(locks.isHeld('c'), false);
});
