// Settings a server cannot start with are refused as `config_invalid` (protocol/errors.ts): one message
// naming the flag or file and what to do, exit status 2, never a stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { hashPassword } from '../../server/auth/passwords';
import { SERVER_JS } from '../helpers/server';

const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-startup-config-'));
after(() => rmSync(home, { recursive: true, force: true }));

function startWith(args: string[], dataDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER_JS, '--port', '0', '--data-dir', dataDir, ...args], { env: { ...process.env, SKYDECK_HOME: home } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // A server that starts instead of refusing is stopped, and the test fails on its exit code.
    const timer = setTimeout(() => child.kill('SIGTERM'), 5000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function refused(run: { code: number | null; output: string }, message: RegExp): void {
  assert.equal(run.code, 2, run.output);
  assert.match(run.output, message);
  assert.doesNotMatch(run.output, /\n\s+at /, 'no stack trace');
}

function freshDataDir(name: string): string {
  const dir = path.join(home, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

test('a bad flag is refused naming the flag', async () => {
  refused(await startWith(['--long-workers', '0'], freshDataDir('flags')), /--long-workers: expected a positive whole number, got '0'/);
  refused(await startWith(['--request-retention', 'soon'], freshDataDir('flags')), /--request-retention: expected a duration/);
});

test('an accounts file that does not parse is refused naming the file and the key', async () => {
  const dataDir = freshDataDir('accounts');
  const users = path.join(dataDir, 'users.json');
  const user = { name: 'ann', role: 'admin', password: await hashPassword('long-enough-password'), createdAt: 0 };
  writeFileSync(users, JSON.stringify({ users: [user, { ...user, name: 'ANN' }] }), { mode: 0o600 });
  refused(await startWith([], dataDir), /users\.json: user ANN is listed twice/);
  writeFileSync(users, JSON.stringify({ users: [{ ...user, password: 'plain text' }] }), { mode: 0o600 });
  refused(await startWith([], dataDir), /users\.json: users\.0\.password: not a scrypt password hash\n$/);
});

test("a local token file owned by another user is refused, saying to remove it", { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
  const dataDir = freshDataDir('token');
  const file = path.join(dataDir, 'local-token');
  writeFileSync(file, 'x'.repeat(43), { mode: 0o600 });
  chownSync(file, 65534, 65534);
  refused(await startWith([], dataDir), /local-token belongs to uid 65534, not to this server's user; remove it/);
});
