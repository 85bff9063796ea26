// LogWriter.writtenBefore: a resumed request that takes its last steps again does not write the lines
// those steps wrote before the restart twice, and writes every line they did not.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LogWriter } from '../../server/logs/log-writer';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-log-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The log that `copied + earlier` becomes when a resumed request writes `lines`, `earlier` written before the restart. */
async function resumed(copied: string, earlier: string, lines: string[]): Promise<string> {
  const file = path.join(mkdtempSync(path.join(dir, 'log-')), 'request.log');
  writeFileSync(file, copied + earlier);
  const log = new LogWriter(file);
  log.writtenBefore(Buffer.byteLength(copied));
  for (const line of lines) log.line(line);
  await log.close();
  return readFileSync(file, 'utf8');
}

test('lines a resumed request writes again are skipped where they stand past the offset, in order; others are written', async () => {
  const earlier = 'Tearing down c (--down)...\nCluster c is gone.\n✓ Job 1 on c succeeded.\n';
  // The teardown had finished: the resumed request goes straight to its verdict, already there. Past the
  // line matched last nothing is held back, and a line from before the offset is no line written before.
  assert.equal(await resumed('job output\n', earlier, ['✓ Job 1 on c succeeded.', 'Cluster c is gone.', 'job output']), `job output\n${earlier}Cluster c is gone.\njob output\n`);
});

test('a line that is only the start of one written before is written', async () => {
  const earlier = 'Error: job 1 on c failed: run exited with code 3\n';
  assert.equal(await resumed('header\n', earlier, ['Error: job 1 on c failed', earlier]), `header\n${earlier}Error: job 1 on c failed\n`);
});
