// A server others can reach must have accounts; guessing credentials gets slower and slower.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, SERVER_JS, startServer, type TestServer } from '../helpers/server';
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

  it('stays a team server when its last account is removed: the local token opens nothing', async () => {
    const server = await startServer({ home, args: ['--host', '0.0.0.0'] });
    try {
      assert.equal((await server.fetch('/api/requests')).status, 401, 'the local token is no credential here');
      admin(server.dataDir, ['users', 'remove', 'root-admin']);
      await eventually(async () => (await server.json<{ auth: string }>('/api/health', { headers: { authorization: '' } })).body.auth === 'basic', 5_000, 'health');
      await new Promise((r) => setTimeout(r, 1_500));
      const res = await server.json<{ error: { message: string } }>('/api/requests');
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /no accounts left/);
      assert.equal((await server.fetch('/api/v1/status', { method: 'POST', body: '{}' })).status, 401);
    } finally {
      await server.stop();
    }
  });
});

describe('guessing passwords', () => {
  let server: TestServer;
  let local: TestServer;
  after(async () => {
    await server?.dispose();
    await local?.dispose();
  });

  it('is answered with 429 and a growing Retry-After after five failures for that account from that address', async () => {
    const team = await startTeamServer([{ name: 'alice', role: 'admin' }, { name: 'bob', role: 'user' }, { name: 'carol', role: 'user' }]);
    server = team.server;
    for (let i = 0; i < 5; i++) assert.equal((await call(server, '/api/requests', basic('carol', `guess-${i}`))).status, 401);
    assert.equal((await call(server, '/api/requests', basic('carol', 'guess-5'))).status, 401, 'the sixth failure is still counted, then the account waits');
    const refused = await call(server, '/api/requests', basic('carol', 'guess-6'));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(refused.body.error!.message, /too many failed logins for carol/);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call(server, '/api/requests', basic('carol', 'guess-7'))).status, 401);
    const longer = await call(server, '/api/requests', basic('carol', 'guess-8'));
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '2');
    await new Promise((r) => setTimeout(r, 2100));
    // The right password clears the record.
    assert.equal((await call(server, '/api/requests', team.accounts.carol!.authorization)).status, 200);
    assert.equal((await call(server, '/api/requests', basic('carol', 'guess-9'))).status, 401);
    assert.equal((await call(server, '/api/requests', team.accounts.carol!.authorization)).status, 200);
  });

  it('never locks the team out: valid credentials pass while someone guesses from the same address', async () => {
    const [alice, bob] = [basic('alice', 'alice-password'), basic('bob', 'bob-password')];
    // alice has logged in before the attack (her client, every few seconds).
    assert.equal((await call(server, '/api/requests', alice)).status, 200);
    // Someone behind the same address (a shared reverse proxy) guesses her password, and bob's.
    for (let i = 0; i < 12; i++) await call(server, '/api/requests', basic('alice', `wrong-${i}`));
    assert.equal((await call(server, '/api/requests', basic('alice', 'wrong-again'))).status, 429, 'the guesser is held back');
    assert.equal((await call(server, '/api/requests', alice)).status, 200, "alice's correct password still passes");
    assert.equal((await call(server, '/api/requests', bob)).status, 200, 'bob, never logged in before, is not held back by guesses at alice');
    for (let i = 0; i < 12; i++) await call(server, '/api/requests', basic('bob', `wrong-${i}`));
    assert.equal((await call(server, '/api/requests', bob)).status, 200, "bob's correct password passes after guesses at his");
    const token = admin(server.dataDir, ['tokens', 'create', 'ci']).trim();
    for (let i = 0; i < 20; i++) assert.equal((await call(server, '/api/requests', `Bearer skdk_wrong${i}`)).status, 401);
    assert.equal((await call(server, '/api/requests', `Bearer ${token}`)).status, 200, 'a valid token is never held back');
  });

  it('never throttles the local token', async () => {
    local = await startServer();
    for (let i = 0; i < 30; i++) assert.equal((await local.fetch('/api/requests', { headers: { authorization: `Bearer wrong-${i}` } })).status, 401);
    assert.equal((await local.fetch('/api/requests')).status, 200);
  });
});
