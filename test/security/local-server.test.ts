// A local server (loopback, no accounts) that no web page and no other OS user can drive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { streamLink } from '../../client/auth/stream-link';
import { parseEndpoint } from '../../client/endpoint';
import { startServer, type TestServer } from '../helpers/server';
import { raw, upgrade } from './helpers';

const CLI_JS = path.resolve(__dirname, '../../dist/cli.js');

describe('local server', () => {
  let server: TestServer;
  let token: string;
  let host: string;
  before(async () => {
    server = await startServer();
    token = readFileSync(path.join(server.dataDir, 'local-token'), 'utf8').trim();
    host = new URL(server.url).host;
  });
  after(() => server.dispose());

  const auth = () => ({ authorization: `Bearer ${token}` });
  const listIds = async () => (await raw(server.url, { path: '/api/requests?all=1', headers: auth() })).json<{ requests: { id: string }[] }>().requests.map((r) => r.id).sort();
  const launchBody = JSON.stringify({ clusterName: 'pwned', task: { run: 'echo this must never run' } });

  it('keeps its token in a file only its owner can read', () => {
    const s = statSync(path.join(server.dataDir, 'local-token'));
    assert.equal(s.mode & 0o777, 0o600);
    assert.equal(s.uid, process.getuid!());
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses calls without the token or with a wrong one, and answers health', async () => {
    assert.equal((await raw(server.url, { path: '/api/requests' })).status, 401);
    assert.equal((await raw(server.url, { path: '/api/requests', headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await raw(server.url, { path: '/api/requests', headers: { authorization: `Bearer ${token.slice(0, -1)}x` } })).status, 401);
    const claimed = await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { 'content-type': 'application/json', 'x-skydeck-user-id': 'a11ce000', 'x-skydeck-user-name': 'alice' }, body: launchBody });
    assert.equal(claimed.status, 401);
    assert.match(claimed.json().error!.message, /needs its token/);
    assert.equal((await raw(server.url, { path: '/api/requests', headers: auth() })).status, 200);
    const health = await raw(server.url, { path: '/api/health' });
    assert.equal(health.status, 200);
    assert.equal(health.json<{ auth: string }>().auth, 'local-token');
  });

  it('gets nothing done for a foreign Host (DNS rebinding), even with the token', async () => {
    const before = await listIds();
    for (const evil of ['evil.example', `evil.example:${new URL(server.url).port}`, '127.0.0.1.evil.example', 'localhost.evil.example', '127.0.0.1:1@evil.example']) {
      const res = await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { ...auth(), host: evil, 'content-type': 'application/json' }, body: launchBody });
      assert.equal(res.status, 403, `Host '${evil}'`);
      assert.equal((await raw(server.url, { path: '/api/requests', headers: { ...auth(), host: evil } })).status, 403);
    }
    assert.deepEqual(await listIds(), before);
    assert.equal((await raw(server.url, { path: '/api/clusters', headers: auth() })).json<{ clusters: unknown[] }>().clusters.length, 0);
    for (const ok of [`localhost:${new URL(server.url).port}`, `[::1]:${new URL(server.url).port}`, host]) {
      assert.equal((await raw(server.url, { path: '/api/requests', headers: { ...auth(), host: ok } })).status, 200, ok);
    }
  });

  it('gets nothing done for a cross-origin browser request', async () => {
    const before = await listIds();
    const browserHeaders: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: 'null' }, { origin: `http://localhost:1` }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of browserHeaders) {
      const res = await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { ...auth(), ...headers, 'content-type': 'application/json' }, body: launchBody });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.json().error!.code, 'cross_origin');
      const cancel = await raw(server.url, { method: 'POST', path: '/api/cancel', headers: { ...auth(), ...headers, 'content-type': 'application/json' }, body: '{"all":true}' });
      assert.equal(cancel.status, 403);
    }
    assert.deepEqual(await listIds(), before);
    // The server's own origin (the stream page) is fine.
    assert.equal((await raw(server.url, { path: '/api/requests', headers: { ...auth(), origin: server.url, 'sec-fetch-site': 'same-origin' } })).status, 200);
  });

  it('refuses WebSocket upgrades without the token, with a foreign Origin or a foreign Host', async () => {
    assert.equal(await upgrade(server.url), 401);
    assert.equal(await upgrade(server.url, { authorization: 'Bearer nope' }), 401);
    assert.equal(await upgrade(server.url, { ...auth(), origin: 'http://evil.example' }), 403);
    assert.equal(await upgrade(server.url, { ...auth(), host: 'evil.example' }), 403);
    assert.equal(await upgrade(server.url, auth()), 'open');
  });

  it('opens one log, and nothing else, to the signed browser stream link', async () => {
    const submitted = await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    const id = submitted.json<{ requestId: string }>().requestId;
    await server.waitFor(id);
    const link = new URL(streamLink({ ...parseEndpoint(server.url, 'override'), authorization: `Bearer ${token}` }, id));
    assert.ok(link.searchParams.get('sig'));
    assert.ok(!link.href.includes(token), 'the link does not carry the token');
    const plain = await raw(server.url, { path: `${link.pathname}${link.search}&format=plain&follow=0` });
    assert.equal(plain.status, 200);
    const page = await raw(server.url, { path: `${link.pathname}${link.search}`, headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.text, /<!doctype html>/);
    // The page fetches location.search again, so the signature rides along.
    assert.match(page.text, /new URLSearchParams\(location\.search\)/);

    const other = (await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })).json<{ requestId: string }>().requestId;
    const sig = link.searchParams.get('sig')!;
    assert.equal((await raw(server.url, { path: `/api/stream?request_id=${other}&sig=${sig}&format=plain` })).status, 401);
    assert.equal((await raw(server.url, { path: `/api/requests/${id}?request_id=${id}&sig=${sig}` })).status, 401);
    assert.equal((await raw(server.url, { path: `/api/stream?request_id=${id}&sig=${sig.slice(0, -2)}aa&format=plain` })).status, 401);
  });

  it('is driven by the CLI of the same user, which reads the token by itself', () => {
    const r = spawnSync(process.execPath, [CLI_JS, 'api', 'status', '-a', '--json'], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout)));
  });

  it('cannot be used by another OS user on the same machine', (t) => {
    if (process.getuid?.() !== 0 || spawnSync('which', ['useradd', 'runuser']).status !== 0) return t.skip('needs root with useradd and runuser to create a second user');
    const name = `skdsec${process.pid % 100000}`;
    const made = spawnSync('useradd', ['--no-create-home', '--shell', '/bin/sh', name], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const theirHome = mkdtempSync(path.join(os.tmpdir(), 'skydeck-other-user-'));
    try {
      chmodSync(theirHome, 0o777);
      const as = (args: string[], env: Record<string, string> = {}) =>
        spawnSync('runuser', ['-u', name, '--', 'env', `SKYDECK_HOME=${theirHome}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args], { encoding: 'utf8', timeout: 30_000 });
      // They cannot read the token...
      const cat = as(['cat', path.join(server.dataDir, 'local-token')]);
      assert.notEqual(cat.status, 0);
      assert.match(cat.stderr, /Permission denied/);
      // ...so their CLI, pointed at the server, is refused, whoever it claims to be.
      const before = spawnSync(process.execPath, [CLI_JS, 'api', 'status', '-a', '--json'], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8' }).stdout;
      for (const args of [
        ['api', 'status', '-a'],
        ['api', 'cancel', '-a', '-u'],
        ['launch', '-y', '-c', 'theirs', '--async', 'echo', 'pwned'],
      ]) {
        const r = as([process.execPath, CLI_JS, ...args], { SKYDECK_API_SERVER_ENDPOINT: server.url, SKYDECK_USER: 'root', SKYDECK_USER_ID: 'a11ce000' });
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /wrong local token|needs its token/);
      }
      const res = as(['sh', '-c', `exec ${process.execPath} -e "fetch('${server.url}/api/requests',{headers:{'x-skydeck-user-id':'a11ce000','x-skydeck-user-name':'root'}}).then(r=>console.log(r.status))"`]);
      assert.equal(res.stdout.trim(), '401');
      const afterList = spawnSync(process.execPath, [CLI_JS, 'api', 'status', '-a', '--json'], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8' }).stdout;
      assert.equal(afterList, before, 'nothing was submitted or cancelled');
    } finally {
      spawnSync('userdel', [name]);
      rmSync(theirHome, { recursive: true, force: true });
    }
  });
});
