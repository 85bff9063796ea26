import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProbe } from '../../server/infra/ssh/host-resources';
import { NodeOutput, nodePrefix } from '../../server/infra/node-output';
import { parseState } from '../../server/infra/ssh/remote-job';
import { LogWriter } from '../../server/logs/log-writer';

test('multi-node output is prefixed line by line, a split line is joined first', async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'skydeck-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new LogWriter(join(dir, 'log'));
  const head = new NodeOutput(log, nodePrefix(0, 2));
  const worker = new NodeOutput(log, nodePrefix(1, 2));
  head.write('hel');
  worker.write('one\ntw');
  head.write('lo\n');
  worker.write('o');
  worker.flush();
  await log.close();
  assert.equal(readFileSync(join(dir, 'log'), 'utf8'), '(node-1, rank=1) one\n(head, rank=0) hello\n(node-1, rank=1) two\n');
});

test('a single node passes its output through untouched', () => {
  assert.equal(nodePrefix(0, 1), '');
});

test('a node state line is read back', () => {
  assert.deepEqual(parseState('@skydeck-state setup=0 go=1 abort=0 cancel=0 exit=- alive=1'), { setupExit: 0, go: true, abort: false, cancelled: false, exitCode: undefined, alive: true });
  assert.equal(parseState('plain output'), undefined);
});

test('the host probe reads CPUs, memory, free disk in the home and the GPUs by the names tasks use', () => {
  assert.deepEqual(parseProbe('8\n32780000\n83886080\nNVIDIA A100-SXM4-40GB\nNVIDIA A100-SXM4-40GB\n'), { cpus: 8, memoryGiB: 31.3, accelerators: { name: 'A100', count: 2 }, diskFreeGB: 80 });
  // df failed (no such home): the disk is unknown, not zero.
  assert.deepEqual(parseProbe('2\n1024000\n\n'), { cpus: 2, memoryGiB: 1, accelerators: undefined });
  assert.throws(() => parseProbe('bash: nproc: not found\n'), /unexpected answer/);
});
