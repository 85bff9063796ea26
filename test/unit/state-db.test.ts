// state.json: changes in one tick cost one file write, the file holds the last state, and a file that
// does not parse is kept aside (named in the log) rather than overwritten.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Adapter } from 'lowdb';
import { StateDb, type StateData } from '../../server/store/state-db';
import { aCluster } from '../helpers/builders';
import type { ClusterRecord } from '../../server/infra/backend';

const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-state-'));
after(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => mkdtempSync(path.join(root, 's-'));
const onDisk = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateData;
const cluster = (name: string) => aCluster({ name }) as unknown as ClusterRecord;

/** Counts the writes StateDb hands to its file adapter (the real one still writes). */
function countWrites(state: StateDb): { count: number } {
  const adapter = (state as unknown as { db: { adapter: Adapter<StateData> } }).db.adapter;
  const counter = { count: 0 };
  const write = adapter.write.bind(adapter);
  adapter.write = (data) => (counter.count++, write(data));
  return counter;
}

test('persist calls in the same tick share one file write, which holds the last state', async () => {
  const dir = freshDir();
  const state = await StateDb.open(dir);
  const writes = countWrites(state);
  const pending: Promise<void>[] = [];
  for (const name of ['a', 'b', 'c']) {
    state.data.clusters[name] = cluster(name);
    pending.push(state.persist());
  }
  state.data.nextJobId.c = 7;
  await Promise.all(pending);
  assert.equal(writes.count, 1, 'one write for the burst');
  assert.deepEqual(Object.keys(onDisk(dir).clusters).sort(), ['a', 'b', 'c']);
  assert.equal(onDisk(dir).nextJobId.c, 7, 'a change made after the last persist in the tick is in the write');

  // A later tick is a write of its own, and the file then holds that state.
  delete state.data.clusters.b;
  await state.persist();
  assert.equal(writes.count, 2);
  assert.deepEqual(Object.keys(onDisk(dir).clusters).sort(), ['a', 'c']);

  const reopened = await StateDb.open(dir);
  assert.deepEqual(Object.keys(reopened.data.clusters).sort(), ['a', 'c']);
  assert.equal(reopened.data.nextJobId.c, 7);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary file is left');
});

test('an unreadable state.json is kept aside, named in the log, and the server starts empty', async () => {
  const dir = freshDir();
  const torn = '{"schemaVersion":1,"clusters":{"a":{"na';
  writeFileSync(path.join(dir, 'state.json'), torn);
  const log: string[] = [];
  const state = await StateDb.open(dir, (line) => log.push(line));
  assert.deepEqual(state.data.clusters, {});
  const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.unreadable-'));
  assert.equal(aside.length, 1, `kept aside: ${readdirSync(dir).join(', ')}`);
  assert.equal(readFileSync(path.join(dir, aside[0]), 'utf8'), torn, 'byte for byte');
  assert.equal(log.length, 1);
  assert.ok(log[0].includes(path.join(dir, aside[0])), `the log names the file: ${log[0]}`);
  assert.equal(onDisk(dir).schemaVersion, 1, 'a fresh state.json is written');

  const empty = freshDir();
  writeFileSync(path.join(empty, 'state.json'), '');
  const emptyLog: string[] = [];
  await StateDb.open(empty, (line) => emptyLog.push(line));
  assert.match(emptyLog[0], /\(empty\)/);
  assert.equal(readdirSync(empty).filter((f) => f.startsWith('state.json.unreadable-')).length, 1);
});
