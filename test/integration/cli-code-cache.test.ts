// The CLI's code cache (client/cli/bundle-loader.ts): the built `skydeck` writes the compiled code of the
// bundles it ran into SKYDECK_HOME/code-cache, and a cache that is stale, corrupt, unwritable or in a folder
// others can write to never changes what a command does. The command here is a launch of a bad task file:
// it loads the main and launch bundles and fails in the launch bundle with an error that the shared error
// printer must recognise (exit 2, file:line), all before any server is contacted.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, test } from 'node:test';
import { runCli, type CliTarget } from '../helpers/cli';

let root: string;
let target: CliTarget;
let badTask: string;
let cacheDir: string;

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-code-cache-'));
  // Nothing listens there: the bad task is refused before the CLI connects.
  target = { home: path.join(root, 'home'), url: 'http://127.0.0.1:9' };
  badTask = path.join(root, 'bad.yaml');
  writeFileSync(badTask, 'resources:\n  cpus: 2\nrun: echo hi\nnot_a_key: 1\n');
  cacheDir = path.join(target.home, 'code-cache');
});

after(() => rmSync(root, { recursive: true, force: true }));

async function launchBadTask(home = target.home): Promise<void> {
  const run = await runCli({ ...target, home }, ['launch', badTask, '-c', 'cached', '-y']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /bad\.yaml:4: not_a_key: unknown key/);
}

/** Whether the file is a whole cache entry: header, and a payload matching its length and CRC-32. */
function wholeEntry(file: string): boolean {
  const data = readFileSync(file);
  const payload = data.subarray(16);
  return data.length > 16 && data.readUInt32LE(0) === 0x31434453 && data.readUInt32LE(12) === payload.length && data.readUInt32LE(8) === crc32(payload);
}

test('a first run writes the compiled code of the bundles it ran, private to the user, and the next run uses it', async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  await launchBadTask();
  for (const bundle of ['main', 'launch']) {
    const file = path.join(cacheDir, `cli-${bundle}.cache`);
    assert.ok(wholeEntry(file), `${file} is a whole cache entry`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }
  assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
  const written = readFileSync(path.join(cacheDir, 'cli-launch.cache'));
  await launchBadTask();
  assert.deepEqual(readFileSync(path.join(cacheDir, 'cli-launch.cache')), written, 'a cache that was used is not written again');
});

test('a stale, corrupt, truncated or foreign cache entry is ignored and rewritten', async () => {
  const file = path.join(cacheDir, 'cli-launch.cache');
  await launchBadTask();
  const good = readFileSync(file);
  const damages: Record<string, (b: Buffer) => Buffer> = {
    // Made from another build of the bundle (its source CRC-32 differs).
    stale: (b) => {
      const c = Buffer.from(b);
      c.writeUInt32LE((c.readUInt32LE(4) ^ 1) >>> 0, 4);
      return c;
    },
    // One flipped byte inside the compiled code: V8 itself would take it (it checks only lengths and versions).
    'flipped byte': (b) => {
      const c = Buffer.from(b);
      c[c.length >> 1] ^= 0x55;
      return c;
    },
    truncated: (b) => b.subarray(0, b.length >> 1),
    'not a cache': () => Buffer.from('#!/bin/sh\necho not compiled code\n'),
    empty: () => Buffer.alloc(0),
  };
  for (const [name, damage] of Object.entries(damages)) {
    writeFileSync(file, damage(good), { mode: 0o600 });
    await launchBadTask();
    assert.ok(wholeEntry(file), `after a ${name} entry the cache is whole again`);
    assert.equal(readFileSync(file).readUInt32LE(4), good.readUInt32LE(4), `after a ${name} entry it is made from this build`);
  }
});

test('a home where the cache cannot be written still runs every command', async () => {
  const home = path.join(root, 'unwritable');
  mkdirSync(home, { recursive: true });
  // A file where the cache folder would be: every mkdir and write under it fails, for root too.
  writeFileSync(path.join(home, 'code-cache'), 'in the way\n');
  await launchBadTask(home);
  await launchBadTask(home);
  assert.equal(readFileSync(path.join(home, 'code-cache'), 'utf8'), 'in the way\n');
});

test('a cache folder that other users can write to is neither read nor written', async () => {
  const home = path.join(root, 'shared-folder');
  const dir = path.join(home, 'code-cache');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  const planted = path.join(dir, 'cli-launch.cache');
  writeFileSync(planted, 'planted by someone else\n');
  await launchBadTask(home);
  assert.equal(readFileSync(planted, 'utf8'), 'planted by someone else\n');
  assert.throws(() => statSync(path.join(dir, 'cli-main.cache')), /ENOENT/);
});
