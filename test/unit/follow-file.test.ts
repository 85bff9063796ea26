// followFile reads to the end of what its writer wrote, including bytes appended just before the writer
// said it was done.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { followFile } from '../../server/logs/follow';

describe('followFile', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-follow-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

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
