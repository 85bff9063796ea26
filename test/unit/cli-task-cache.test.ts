// client/cli/task-cache.ts in process, on a folder of its own: what the integration test
// (test/integration/cli-task-cache.test.ts) cannot reach through the built CLI in reasonable time, the
// cap on entries, and that a hit is the same task and another build's entry is not one.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cachedParse, TASK_CACHE_ENTRIES } from '../../client/cli/task-cache';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-task-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const entries = () => readdirSync(dir).filter((f) => f.endsWith('.v8'));

test('a hit is the task that was validated; another build does not see it', () => {
  const text = 'resources:\n  cpus: 2+\nenvs:\n  N: 3\nrun: echo $N\n';
  const first = cachedParse(text, 'a.yaml', { dir, build: 'one' });
  assert.equal(entries().length, 1);
  assert.deepEqual(cachedParse(text, 'a.yaml', { dir, build: 'one' }), first);
  cachedParse(text, 'a.yaml', { dir, build: 'two' });
  assert.equal(entries().length, 2, 'each build keeps its own entry');
});

test(`at most ${TASK_CACHE_ENTRIES} entries are kept`, () => {
  for (let i = 0; i < TASK_CACHE_ENTRIES + 10; i++) cachedParse(`run: echo ${i}\n`, 'many.yaml', { dir, build: 'one' });
  assert.equal(entries().length, TASK_CACHE_ENTRIES);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no half-written entry left');
});

test('without a build (run from sources) nothing is kept', () => {
  const before = entries().length;
  assert.equal(cachedParse('run: echo unkept\n', 'x.yaml', { dir, build: undefined }).run, 'echo unkept');
  assert.equal(entries().length, before);
});
