import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, relativeTime, shortId, table } from '../../client/format';
import { requestTable } from '../../client/cli/commands/api';
import type { RequestSummary } from '../../protocol/model';

const NOW = 1_700_000_000_000;

test('relative times read like 5s ago, 3m ago, 2h ago, 4d ago', () => {
  assert.equal(relativeTime(NOW, NOW), 'just now');
  assert.equal(relativeTime(NOW + 5000, NOW), 'just now');
  assert.equal(relativeTime(NOW - 5_000, NOW), '5s ago');
  assert.equal(relativeTime(NOW - 59_999, NOW), '59s ago');
  assert.equal(relativeTime(NOW - 3 * 60_000 - 10_000, NOW), '3m ago');
  assert.equal(relativeTime(NOW - 2 * 3_600_000, NOW), '2h ago');
  assert.equal(relativeTime(NOW - 4 * 86_400_000, NOW), '4d ago');
});

test('durations', () => {
  assert.equal(duration(850), '850ms');
  assert.equal(duration(12_400), '12s');
  assert.equal(duration(185_000), '3m 5s');
  assert.equal(duration(2 * 3_600_000 + 10 * 60_000), '2h 10m');
  assert.equal(duration(3 * 86_400_000 + 4 * 3_600_000), '3d 4h');
});

test('tables align columns, keep cells on one line and have no trailing spaces', () => {
  const out = table(
    [
      { a: 'x', b: 'long value' },
      { a: 'longer', b: 'multi\nline' },
    ],
    [
      { header: 'A', value: (r) => r.a },
      { header: 'B', value: (r) => r.b },
    ],
  );
  assert.equal(out, 'A       B\nx       long value\nlonger  multi line');
});

test('api status rows: 8-char id, user, name, cluster, relative created time, status', () => {
  const requests: RequestSummary[] = [
    { id: '0123456789abcdef-rest', name: 'launch', status: 'RUNNING', user: { id: 'aaaaaaaa', name: 'alice' }, clusterName: 'dev', schedule: 'long', createdAt: NOW - 5000 },
    { id: 'fedcba9876543210-rest', name: 'status', status: 'SUCCEEDED', user: { id: 'bbbbbbbb', name: 'bob' }, schedule: 'short', createdAt: NOW - 180_000 },
  ];
  assert.equal(
    requestTable(requests, NOW),
    ['ID        USER   NAME    CLUSTER  CREATED  STATUS', '01234567  alice  launch  dev      5s ago   RUNNING', 'fedcba98  bob    status  -        3m ago   SUCCEEDED'].join('\n'),
  );
  assert.equal(shortId('0123456789'), '01234567');
});
