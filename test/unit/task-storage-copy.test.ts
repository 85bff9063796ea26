// COPY storage mappings: where each local source lands on the nodes. One source fills the mount path;
// a list of sources puts each at <path>/<its name>, as SkyPilot uploads a list into its bucket's root,
// and what SkyPilot refuses of a list (two sources of one name, a trailing slash) is refused here too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copiedMounts, storageCopy, type StorageMount } from '../../protocol/task-storage';

const copy = (source: StorageMount['source'], mode = 'COPY') => storageCopy('~/data', { source, mode });
const ID = 'a'.repeat(32);

test('one local source fills the mount path; a list puts each source under it by name', () => {
  assert.deepEqual(copy('/src/train'), { copies: { '~/data': '/src/train' } });
  assert.deepEqual(copy(['/src/train', '/src/labels.csv']), { copies: { '~/data/train': '/src/train', '~/data/labels.csv': '/src/labels.csv' } });
  // A list of one is still a list: SkyPilot puts a lone listed file at <path>/<its name>.
  assert.deepEqual(copy(['/src/labels.csv']), { copies: { '~/data/labels.csv': '/src/labels.csv' } });
  assert.deepEqual(storageCopy('/mnt/in/', { source: ['/a/x'], mode: 'COPY' }), { copies: { '/mnt/in/x': '/a/x' } });
});

test("uploads in a list land under the name the client kept (upload://ID/NAME)", () => {
  assert.deepEqual(copy([`upload://${ID}/train`, `upload://${ID.replace(/a/g, 'b')}/labels.csv`]), {
    copies: { '~/data/train': `upload://${ID}/train`, '~/data/labels.csv': `upload://${ID.replace(/a/g, 'b')}/labels.csv` },
  });
  assert.match((copy([`upload://${ID}`]) as { problem: string }).problem, /names no file or folder to land at ~\/data\/<its name>/);
});

test('a list with two sources of one name, or a source ending in a slash, is refused as SkyPilot does', () => {
  assert.deepEqual(copy(['/a/train', '/b/train']), { problem: 'sources /a/train and /b/train would both land at ~/data/train; give them different names or mounts of their own' });
  assert.match((copy(['/a/train/']) as { problem: string }).problem, /^source \/a\/train\/ ends with a slash; name the folder itself/);
});

test('mappings that are not COPY of local sources are not copies (the caller names why)', () => {
  assert.equal(copy(['/a/x', 's3://bucket/y']), undefined);
  assert.equal(copy(['/a/x'], 'MOUNT'), undefined);
  assert.equal(copy('s3://bucket'), undefined);
  assert.equal(storageCopy('~/data', { name: 'bucket', mode: 'COPY' }), undefined);
});

test('every copied mount: plain paths, single sources and each source of a list; refused lists add none', () => {
  const mounts = {
    '~/plain': '/p',
    '~/one': { source: '/o', mode: 'COPY' },
    '~/many': { source: ['/m/a', '/m/b.txt'], mode: 'COPY' },
    '~/clash': { source: ['/x/a', '/y/a'], mode: 'COPY' },
    '~/bucket': { source: 's3://b', mode: 'COPY' },
  };
  assert.deepEqual(copiedMounts(mounts), { '~/plain': '/p', '~/one': '/o', '~/many/a': '/m/a', '~/many/b.txt': '/m/b.txt' });
});
