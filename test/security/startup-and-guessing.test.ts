// A server others can reach must have accounts; guessing credentials gets slower and slower.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SERVER_JS, type TestServer } from '../helpers/server';
import { admin, basic, call, startTeamServer } from './helpers';

function runServer(args: string[], home: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER_JS, '--port', '0', ...args], { env: { ...process.env, SKYDECK_HOME: home } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 3000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('starting on a non-loopback address', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-sec-start-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('is refused without accounts, saying how to add one', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const { code, output } = await runServer(['--host', host, '--data-dir', path.join(home, 'server')], home);
      assert.equal(code, 2, output);
      assert.match(output, /refusing to listen on .* without authentication/);
      assert.match(output, /skydeck users add NAME --role admin --data-dir/);
    }
  });

  it('goes ahead once an admin account exists', async () => {
    admin(path.join(home, 'server'), ['users', 'add', 'root-admin', '--role', 'admin', '--password-stdin'], 'long-enough-password\n');
    const { output } = await runServer(['--host', '0.0.0.0', '--data-dir', path.join(home, 'server')], home);
    assert.match(output, /listening on http:\/\/0\.0\.0\.0:\d+ .*auth: basic/);
  });
});

describe('guessing passwords', () => {
  let server: TestServer;
  after(() => server?.dispose());

  it('is answered with 429 and a growing Retry-After after five failures, even for the right password', async () => {
    const team = await startTeamServer([{ name: 'alice', role: 'admin' }]);
    server = team.server;
    for (let i = 0; i < 5; i++) assert.equal((await call(server, '/api/requests', basic('alice', `guess-${i}`))).status, 401);
    const blocked = await call(server, '/api/requests', basic('alice', 'guess-5'));
    assert.equal(blocked.status, 401, 'the sixth failure is still counted, then the address waits');
    const refused = await call(server, '/api/requests', team.accounts.alice!.authorization);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call(server, '/api/requests', basic('alice', 'guess-6'))).status, 401);
    const longer = await call(server, '/api/requests', basic('alice', 'guess-7'));
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '2');
    await new Promise((r) => setTimeout(r, 2100));
    // The right password clears the record.
    assert.equal((await call(server, '/api/requests', team.accounts.alice!.authorization)).status, 200);
    assert.equal((await call(server, '/api/requests', basic('alice', 'guess-8'))).status, 401);
    assert.equal((await call(server, '/api/requests', team.accounts.alice!.authorization)).status, 200);
  });
});
