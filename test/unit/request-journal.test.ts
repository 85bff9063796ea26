// The live-request journal survives a crash mid-line, compacts without losing a live request, and
// keeps writing to the old file when a compaction cannot be written.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { RequestJournal } from '../../server/store/request-journal';
import { aLaunch } from '../helpers/builders';

const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = () => path.join(mkdtempSync(path.join(root, `j${n++}-`)), 'requests.jsonl');
const idOf = (i: number) => `0000000${i}`.slice(-8) + '-0000-4000-8000-000000000000';
const lineCount = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length;

test('a torn last line is ignored on reload and every whole line before it is kept', () => {
  const file = freshFile();
  const journal = new RequestJournal(file);
  journal.put(aLaunch({ id: idOf(1), status: 'PENDING' }));
  journal.put(aLaunch({ id: idOf(2), status: 'PENDING' }));
  journal.put(aLaunch({ id: idOf(1), status: 'RUNNING', startedAt: 5 }));
  journal.put(aLaunch({ id: idOf(3), status: 'PENDING' }));
  journal.remove(idOf(3));
  journal.close();
  // A crash while the next change of request 2 was being written.
  appendFileSync(file, JSON.stringify(aLaunch({ id: idOf(2), status: 'RUNNING' })).slice(0, 40));

  const reloaded = new RequestJournal(file);
  assert.deepEqual([...reloaded.ids()].sort(), [idOf(1), idOf(2)]);
  assert.equal(reloaded.get(idOf(1))?.status, 'RUNNING', 'the last whole line for an id wins');
  assert.equal(reloaded.get(idOf(1))?.startedAt, 5);
  assert.equal(reloaded.get(idOf(2))?.status, 'PENDING', 'the torn line changed nothing');
  // Appends after the reload start on a line of their own and survive another reload.
  reloaded.put(aLaunch({ id: idOf(4), status: 'PENDING' }));
  reloaded.close();
  for (const line of readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')) JSON.parse(line);
  const again = new RequestJournal(file);
  assert.deepEqual([...again.ids()].sort(), [idOf(1), idOf(2), idOf(4)]);
  again.close();
});

test('compaction rewrites the journal to one line per live request, each in its last state', () => {
  const file = freshFile();
  const journal = new RequestJournal(file);
  for (let i = 0; i < 20; i++) journal.put(aLaunch({ id: idOf(i), status: 'PENDING' }));
  for (let i = 10; i < 20; i++) journal.remove(idOf(i));
  // Enough changes to pass the compaction threshold (10,000 lines plus 4 per live request).
  for (let k = 0; k < 10_100; k++) journal.put(aLaunch({ id: idOf(k % 10), status: 'RUNNING', startedAt: k }));
  assert.ok(lineCount(file) < 200, `compacted: ${lineCount(file)} lines`);
  journal.put(aLaunch({ id: idOf(0), status: 'RUNNING', startedAt: -1 }));
  journal.close();

  const reloaded = new RequestJournal(file);
  assert.deepEqual([...reloaded.ids()].sort(), Array.from({ length: 10 }, (_, i) => idOf(i)));
  assert.equal(reloaded.get(idOf(0))?.startedAt, -1, 'a change after the compaction went into the new file');
  for (let i = 1; i < 10; i++) {
    const last = 10_099 - ((10_099 - i) % 10);
    assert.equal(reloaded.get(idOf(i))?.startedAt, last, `request ${i} in its last state`);
  }
  reloaded.close();
});

test('a compaction that cannot be written keeps the old file and keeps appending to it', () => {
  const file = freshFile();
  const journal = new RequestJournal(file);
  for (let i = 0; i < 5; i++) journal.put(aLaunch({ id: idOf(i), status: 'PENDING' }));
  // The compaction writes requests.jsonl.tmp first: a directory there makes every compaction fail.
  mkdirSync(`${file}.tmp`);
  for (let k = 0; k < 10_100; k++) journal.put(aLaunch({ id: idOf(k % 5), status: 'RUNNING', startedAt: k }));
  assert.equal(lineCount(file), 5 + 10_100, 'nothing was compacted and no line was lost');
  // The descriptor in use is still the open one: more changes are recorded, none throws.
  journal.put(aLaunch({ id: idOf(7), status: 'PENDING' }));
  journal.remove(idOf(0));
  assert.equal(lineCount(file), 5 + 10_100 + 2);
  journal.close();

  rmdirSync(`${file}.tmp`);
  const reloaded = new RequestJournal(file);
  assert.deepEqual([...reloaded.ids()].sort(), [idOf(1), idOf(2), idOf(3), idOf(4), idOf(7)]);
  assert.equal(reloaded.get(idOf(4))?.startedAt, 10_099);
  assert.equal(lineCount(file), 5, 'the next start compacts it');
  reloaded.close();
});

test('a journal that cannot be compacted at start still opens and records changes', () => {
  const file = freshFile();
  const first = new RequestJournal(file);
  first.put(aLaunch({ id: idOf(1), status: 'PENDING' }));
  first.close();
  mkdirSync(`${file}.tmp`);
  const journal = new RequestJournal(file);
  journal.put(aLaunch({ id: idOf(2), status: 'PENDING' }));
  journal.close();
  rmdirSync(`${file}.tmp`);
  const reloaded = new RequestJournal(file);
  assert.deepEqual([...reloaded.ids()].sort(), [idOf(1), idOf(2)]);
  reloaded.close();
});
