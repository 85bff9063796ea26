import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_LOCK_POLICY, isProcessAlive, readOwner, tryLock, type LockPolicy } from '../../client/start-lock';

function lockPath(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'server', 'autostart.lock');
}

const alive = (pids: number[]): LockPolicy => ({ ...DEFAULT_LOCK_POLICY, isAlive: (pid) => pids.includes(pid) });

test('a free lock is taken, records our pid, and is removed on release', (t) => {
  const path = lockPath(t);
  const lock = tryLock(path);
  assert.ok(lock);
  assert.equal(readOwner(path)?.pid, process.pid);
  lock.release();
  assert.ok(!existsSync(path));
});

test('a lock held by a live process is not taken', (t) => {
  const path = lockPath(t);
  const first = tryLock(path, alive([process.pid]));
  assert.ok(first);
  assert.equal(tryLock(path, alive([process.pid])), undefined);
  first.release();
  assert.ok(tryLock(path, alive([process.pid])));
});

test('a lock whose owner died is stale and taken over', (t) => {
  const path = lockPath(t);
  const now = Date.now();
  assert.ok(tryLock(path, DEFAULT_LOCK_POLICY, now));
  writeFileSync(path, JSON.stringify({ pid: 999_999_999, createdAt: now }));
  const lock = tryLock(path, alive([process.pid]), now);
  assert.ok(lock);
  assert.deepEqual(readOwner(path), { pid: process.pid, createdAt: now });
});

test('a lock older than the maximum age is stale even if its pid is alive (pid reuse)', (t) => {
  const path = lockPath(t);
  const now = Date.now();
  assert.ok(tryLock(path, DEFAULT_LOCK_POLICY, now - 2 * DEFAULT_LOCK_POLICY.maxAgeMs));
  writeFileSync(path, JSON.stringify({ pid: 4242, createdAt: now - 2 * DEFAULT_LOCK_POLICY.maxAgeMs }));
  assert.ok(tryLock(path, alive([4242, process.pid]), now));
});

test('an empty lock is respected for a short grace period, then broken', (t) => {
  const path = lockPath(t);
  assert.ok(tryLock(path));
  writeFileSync(path, '');
  assert.equal(tryLock(path), undefined, 'its creator may still be writing it');
  const old = new Date(Date.now() - 10_000);
  utimesSync(path, old, old);
  assert.ok(tryLock(path));
});

test('release leaves a lock that someone else has taken since', (t) => {
  const path = lockPath(t);
  const lock = tryLock(path);
  assert.ok(lock);
  writeFileSync(path, JSON.stringify({ pid: 1, createdAt: 1 }));
  lock.release();
  assert.equal(readFileSync(path, 'utf8'), JSON.stringify({ pid: 1, createdAt: 1 }));
});

test('isProcessAlive tells live pids from dead ones', () => {
  assert.equal(isProcessAlive(process.pid), true);
  assert.equal(isProcessAlive(999_999_999), false);
});
