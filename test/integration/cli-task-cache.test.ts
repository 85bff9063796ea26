// The CLI's cache of validated task files (client/cli/task-cache.ts), through the built `skydeck` and a real
// server: a second `launch --dryrun` of the same file takes its task from SKYDECK_HOME/code-cache and never
// loads dist/cli-validation.js (whose own code cache, cli-validation.cache, is rewritten whenever it is
// loaded, so a removed one that stays away shows the bundle did not run); a changed file is validated
// again; an entry that is for other text, from another build, corrupt, or in a folder other users can
// write to is never used; and a file with errors is reported at its lines every time, never cached.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { after, before, describe, it } from 'node:test';
import { disposeWithWork, runCli, type CliRun } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

describe('the CLI cache of validated task files', () => {
  let server: TestServer;
  let file: string;
  let cacheDir: string;
  const validationCache = () => path.join(cacheDir, 'cli-validation.cache');
  const entries = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => /^task-.*\.v8$/.test(f)) : []);
  const dryRun = async (home = server.home): Promise<CliRun> => {
    const run = await runCli({ home, url: server.url }, ['launch', file, '-c', 'cached', '--dryrun']);
    assert.equal(run.code, 0, run.stderr);
    return run;
  };

  before(async () => {
    server = await startServer();
    cacheDir = path.join(server.home, 'code-cache');
    file = path.join(server.home, 'task.yaml');
  });
  after(() => disposeWithWork(server));

  it('a second dry run of the same file takes its task from the cache, without loading the validation bundle', async () => {
    // With the sections env references are filled in (file_mounts, workdir), none of them holding one.
    writeFileSync(file, `resources:\n  cpus: 1\nworkdir: .\nfile_mounts:\n  ~/data/copy.yaml: ./task.yaml\nenvs:\n  MODE: test\nrun: echo from-the-file\n`);
    const first = await dryRun();
    assert.match(first.stdout, /Run: echo from-the-file/);
    assert.equal(entries().length, 1, 'one entry for the one task file');
    const entry = path.join(cacheDir, entries()[0]!);
    assert.equal(statSync(entry).mode & 0o777, 0o600);
    assert.ok(existsSync(validationCache()), 'the first run loaded the validation bundle');
    rmSync(validationCache());
    const second = await dryRun();
    assert.equal(second.stdout, first.stdout);
    assert.ok(!existsSync(validationCache()), 'the second run did not load the validation bundle');
  });

  it('a changed file is validated again, and one with errors is reported at its line each time and not kept', async () => {
    writeFileSync(file, 'resources:\n  cpus: 1\nrun: echo changed\n');
    assert.match((await dryRun()).stdout, /Run: echo changed/);
    writeFileSync(file, 'resources:\n  cpus: 1\nrun: echo broken\nnot_a_key: 1\n');
    const kept = entries().length;
    for (let i = 0; i < 2; i++) {
      const run = await runCli(server, ['launch', file, '-c', 'cached', '--dryrun']);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /task\.yaml:4: not_a_key: unknown key/);
    }
    assert.equal(entries().length, kept, 'nothing was kept for the file with errors');
  });

  it('an entry for other text, from another build, or corrupt is not used, and is made again', async () => {
    writeFileSync(file, 'resources:\n  cpus: 1\nrun: echo the-real-one\n');
    await dryRun();
    const name = entries().find((f) => deserialize(readFileSync(path.join(cacheDir, f))).text.includes('the-real-one'))!;
    const entryFile = path.join(cacheDir, name);
    const good = deserialize(readFileSync(entryFile)) as { build: string; text: string; task: { run: string } };
    const planted = { ...good.task, run: 'echo planted' };
    const damaged: Record<string, Buffer> = {
      'other text': serialize({ ...good, text: `${good.text}# another file\n`, task: planted }),
      'another build': serialize({ ...good, build: `${good.build}-older`, task: planted }),
      corrupt: Buffer.from('not a serialized entry'),
      truncated: serialize({ ...good, task: planted }).subarray(0, 20),
    };
    for (const [what, bytes] of Object.entries(damaged)) {
      writeFileSync(entryFile, bytes, { mode: 0o600 });
      const run = await dryRun();
      assert.match(run.stdout, /Run: echo the-real-one/, `an entry with ${what} is not used`);
      assert.equal(deserialize(readFileSync(entryFile)).task.run, 'echo the-real-one', `an entry with ${what} is made again`);
    }
  });

  it('an entry in a folder that other users can write to is neither used nor written', async () => {
    writeFileSync(file, 'resources:\n  cpus: 1\nrun: echo shared-folder\n');
    await dryRun();
    const name = entries().find((f) => deserialize(readFileSync(path.join(cacheDir, f))).text.includes('shared-folder'))!;
    const entryFile = path.join(cacheDir, name);
    const good = deserialize(readFileSync(entryFile)) as { task: { run: string } };
    writeFileSync(entryFile, serialize({ ...good, task: { ...good.task, run: 'echo planted' } }));
    const before = readdirSync(cacheDir).sort();
    chmodSync(cacheDir, 0o777);
    try {
      writeFileSync(file, 'resources:\n  cpus: 1\nrun: echo shared-folder\n');
      const run = await dryRun();
      assert.match(run.stdout, /Run: echo shared-folder/);
      assert.equal(deserialize(readFileSync(entryFile)).task.run, 'echo planted', 'the planted entry is left as it was');
      assert.deepEqual(readdirSync(cacheDir).sort(), before, 'nothing was written there');
    } finally {
      chmodSync(cacheDir, 0o700);
    }
  });
});
