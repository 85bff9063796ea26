// followFile from an offset past the end of a finished file: a restarted server resumes a request's copy
// of its job log at (request log size - header), and the request log can be ahead of the job log by the
// verdict line the request wrote just before a kill. The follow must end, not look for bytes forever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { followFile } from '../../server/logs/follow';

describe('followFile', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-follow-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ends at once when it starts past the end of a file whose writer is done', { timeout: 5_000 }, async () => {
    const file = path.join(dir, 'job.log');
    writeFileSync(file, 'line 1\nline 2\n');
    const chunks: Buffer[] = [];
    const end = await followFile(file, { from: 40, follow: true, isDone: () => true, onData: (c) => void chunks.push(c) });
    assert.equal(end, 40);
    assert.deepEqual(chunks, []);
  });

  it('still reads what the writer appended before it said it was done', { timeout: 5_000 }, async () => {
    const file = path.join(dir, 'late.log');
    writeFileSync(file, 'a\n');
    let done = false;
    const chunks: Buffer[] = [];
    const following = followFile(file, {
      follow: true,
      isDone: () => done,
      onData: (c) => {
        chunks.push(c);
        if (!done) {
          writeFileSync(file, 'a\nb\n');
          done = true;
        }
      },
    });
    assert.equal(await following, 4);
    assert.equal(Buffer.concat(chunks).toString(), 'a\nb\n');
  });
});
