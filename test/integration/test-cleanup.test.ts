// The test helpers clean up after a test file that fails by timing out: the runner ends such a file
// with SIGTERM before its after() hooks run, and its servers would otherwise keep running (and their
// homes stay in the temp folder) long after the suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { eventually } from '../helpers/server';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a test file that times out leaves no server running and no home behind', async () => {
  const fixture = path.join(__dirname, '..', 'fixtures', 'hanging-server.ts');
  // --test-timeout bounds the file as a whole: the runner ends the file's process when it runs out. A
  // runner of its own (without this file's NODE_TEST_CONTEXT, which would make it skip running files).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-timeout=8000', fixture], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const started = /SERVER (\d+) (\S+)/.exec(out);
  assert.ok(started, `the fixture did not start its server:\n${out}`);
  assert.notEqual(code, 0, 'the hanging test was reported as passing');
  const pid = Number(started[1]);
  await eventually(() => !alive(pid), 10_000, `server ${pid} to be gone`).catch(() => {
    process.kill(pid, 'SIGKILL');
    assert.fail(`server ${pid} outlived its test file`);
  });
  assert.equal(existsSync(started[2]!), false, `its home ${started[2]} is still there`);
});
