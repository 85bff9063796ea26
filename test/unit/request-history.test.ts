// Finished-request history: a crash mid-line loses only that line, and retention removes whole
// segments (files) past the window while every other record stays readable.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { RequestHistory } from '../../server/store/history';
import { aLaunch } from '../helpers/builders';

const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-history-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => mkdtempSync(path.join(root, `h${n++}-`));
const idOf = (i: number) => `0000000${i}`.slice(-8) + '-0000-4000-8000-000000000000';
const SPAN = 1_000;

test('a torn last line is dropped on reload; the records before it and appends after it are whole', () => {
  const dir = freshDir();
  const history = new RequestHistory(dir, SPAN);
  for (let i = 1; i <= 3; i++) history.append(aLaunch({ id: idOf(i), finishedAt: 100 + i, result: { clusterName: 'c', jobId: i, jobStatus: 'SUCCEEDED' } }));
  history.close();
  const segment = path.join(dir, '0.jsonl');
  appendFileSync(segment, JSON.stringify(aLaunch({ id: idOf(4), finishedAt: 104 })).slice(0, 50));

  const reloaded = new RequestHistory(dir, SPAN);
  assert.equal(reloaded.size, 3);
  assert.equal(reloaded.has(idOf(4)), false);
  for (let i = 1; i <= 3; i++) assert.deepEqual(reloaded.get(idOf(i))?.result, { clusterName: 'c', jobId: i, jobStatus: 'SUCCEEDED' }, `record ${i} reads back whole`);
  reloaded.append(aLaunch({ id: idOf(5), finishedAt: 105 }));
  assert.equal(reloaded.get(idOf(5))?.id, idOf(5));
  reloaded.close();
  for (const line of readFileSync(segment, 'utf8').split('\n').filter((l) => l !== '')) JSON.parse(line);

  const again = new RequestHistory(dir, SPAN);
  assert.deepEqual([...again.ids()].sort(), [idOf(1), idOf(2), idOf(3), idOf(5)]);
  assert.equal(again.get(idOf(5))?.finishedAt, 105);
  again.close();
});

test('expiry removes whole segments past the retention window and nothing newer', () => {
  const dir = freshDir();
  const history = new RequestHistory(dir, SPAN);
  // Segments 0, 1000 and 2000 (by finish time), two records in the first.
  history.append(aLaunch({ id: idOf(1), finishedAt: 100 }));
  history.append(aLaunch({ id: idOf(2), finishedAt: 900 }));
  history.append(aLaunch({ id: idOf(3), finishedAt: 1_500 }));
  history.append(aLaunch({ id: idOf(4), finishedAt: 2_500 }));
  assert.deepEqual(readdirSync(dir).sort(), ['0.jsonl', '1000.jsonl', '2000.jsonl']);

  const retention = 1_000;
  // Segment 0 ends at 1000; with 1000 of retention it goes at 2000, not a moment before.
  assert.deepEqual(history.expire(1_999, retention), []);
  assert.deepEqual(history.expire(2_000, retention).sort(), [idOf(1), idOf(2)]);
  assert.equal(existsSync(path.join(dir, '0.jsonl')), false, 'the segment file is gone');
  assert.equal(history.has(idOf(1)), false);
  assert.equal(history.get(idOf(2)), undefined);
  assert.equal(history.get(idOf(3))?.finishedAt, 1_500, 'a newer segment still reads back');
  // The segment being appended to can expire too; appends after that open a new file.
  assert.deepEqual(history.expire(4_000, retention).sort(), [idOf(3), idOf(4)]);
  assert.deepEqual(readdirSync(dir), []);
  history.append(aLaunch({ id: idOf(6), finishedAt: 4_100 }));
  history.close();

  const reloaded = new RequestHistory(dir, SPAN);
  assert.deepEqual([...reloaded.ids()], [idOf(6)]);
  reloaded.close();
});
