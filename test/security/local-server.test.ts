// A local server (loopback, no accounts) that no web page and no other OS user can drive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { streamLink } from '../../client/auth/stream-link';
import { parseEndpoint } from '../../client/endpoint';
import { startServer, type TestServer } from '../helpers/server';
import { localSocketPath } from '../../shared/local-socket';
import { anotherOsUser, raw, upgrade } from './helpers';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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
    const endpoint = { ...parseEndpoint(server.url, 'override'), authorization: `Bearer ${token}`, localSocket: localSocketPath(server.dataDir, Number(new URL(server.url).port)) };
    const link = new URL(streamLink(endpoint, id));
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

  it('lets a signed browser link expire, and refuses one signed without an expiry or for too long', async () => {
    const submitted = await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    const id = submitted.json<{ requestId: string }>().requestId;
    await server.waitFor(id);
    const endpoint = { ...parseEndpoint(server.url, 'override'), authorization: `Bearer ${token}`, localSocket: localSocketPath(server.dataDir, Number(new URL(server.url).port)) };
    const open = async (link: string) => (await raw(server.url, { path: `${new URL(link).pathname}${new URL(link).search}&format=plain&follow=0` })).status;
    assert.equal(await open(streamLink(endpoint, id)), 200);
    assert.equal(await open(streamLink(endpoint, id, Date.now() - 13 * 3600_000)), 401, 'made 13 hours ago: expired');
    assert.equal(await open(streamLink(endpoint, id, Date.now() + 365 * 86400_000)), 401, 'valid for a year: refused');
    const fresh = new URL(streamLink(endpoint, id));
    fresh.searchParams.set('expires', String(Number(fresh.searchParams.get('expires')) + 3600));
    assert.equal(await open(fresh.href), 401, 'the expiry is signed');
    // The link of the old format (no time in the signature) survived forever.
    const forever = createHmac('sha256', token).update(`stream:${id}`).digest('base64url');
    assert.equal((await raw(server.url, { path: `/api/stream?request_id=${id}&sig=${forever}&format=plain&follow=0` })).status, 401);
  });

  it('is driven by the CLI of the same user, which reads the token by itself', () => {
    const r = spawnSync(process.execPath, [CLI_JS, 'api', 'status', '-a', '--json'], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout)));
  });

  it('cannot be used by another OS user on the same machine, wherever the checkout lives', (t) => {
    const other = anotherOsUser();
    if (!other) return t.skip('needs root with useradd and runuser to create a second user');
    try {
      const ownerList = () => spawnSync(process.execPath, [CLI_JS, 'api', 'status', '-a', '--json'], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8' }).stdout;
      const before = ownerList();
      // They cannot read the token, nor open the socket the owner's clients use...
      const cat = other.run(['cat', path.join(server.dataDir, 'local-token')]);
      assert.notEqual(cat.status, 0);
      assert.match(cat.stderr, /Permission denied/);
      const socket = localSocketPath(server.dataDir, Number(new URL(server.url).port));
      assert.ok(existsSync(socket), 'the owner server listens on its socket');
      const connect = other.run([process.execPath, '-e', `require('net').connect(${JSON.stringify(socket)}).on('connect',()=>console.log('connected')).on('error',(e)=>console.log(e.code))`]);
      assert.match(connect.stdout, /EACCES/, connect.stdout + connect.stderr);
      // ...so their CLI, pointed at the server, gets nothing done, whoever it claims to be.
      for (const args of [
        ['api', 'status', '-a'],
        ['api', 'cancel', '-a', '-u', '-y'],
        ['launch', '-y', '-c', 'theirs', '--async', 'echo', 'pwned'],
      ]) {
        const r = other.run([process.execPath, other.cli, ...args], { SKYDECK_API_SERVER_ENDPOINT: server.url, SKYDECK_USER: 'root', SKYDECK_USER_ID: 'a11ce000' });
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /wrong local token|needs its token|already in use/, `${args.join(' ')}: ${r.stderr}`);
      }
      const res = other.run([process.execPath, '-e', `fetch('${server.url}/api/requests',{headers:{'x-skydeck-user-id':'a11ce000','x-skydeck-user-name':'root'}}).then(r=>console.log(r.status))`]);
      assert.equal(res.stdout.trim(), '401');
      assert.equal(ownerList(), before, 'nothing was submitted or cancelled');
    } finally {
      other.dispose();
    }
  });

  it("never hands the token or a task's secrets to another OS user who holds the port first", async (t) => {
    const other = anotherOsUser();
    if (!other) return t.skip('needs root with useradd and runuser to create a second user');
    const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-squatted-'));
    try {
      // A ten-line server that answers like SkyDeck and writes down everything it is sent.
      const squatter = path.join(other.home, 'squatter.js');
      const seen = path.join(other.home, 'seen.jsonl');
      writeFileSync(
        squatter,
        `const http = require('http'), fs = require('fs');
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    fs.appendFileSync(process.argv[3], JSON.stringify({ url: req.url, headers: req.headers, body }) + '\\n');
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST') res.statusCode = 202;
    res.end(JSON.stringify({ status: 'healthy', version: '${'0'}.1.0', apiVersion: 1, auth: 'local-token', user: { id: '00000000', name: 'x' }, requestId: '11111111-2222-3333-4444-555555555555', requests: [] }));
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
`,
      );
      const port = await freePort();
      const child = other.spawn([process.execPath, squatter, String(port), seen]);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => String(d).includes('listening') && resolve());
        child.once('exit', (code) => reject(new Error(`squatter exited with ${code}`)));
      });
      const task = path.join(home, 'task.yaml');
      writeFileSync(task, 'run: id\nsecrets:\n  API_KEY: s3cr3t-value-of-the-owner\n');
      const env = { ...process.env, SKYDECK_HOME: home, SKYDECK_API_SERVER_ENDPOINT: `http://127.0.0.1:${port}` };
      const runs = [['api', 'status'], ['launch', '-y', '-c', 'mine', '--async', task]].map((args) => spawnSync(process.execPath, [CLI_JS, ...args], { env, encoding: 'utf8', timeout: 30_000 }));
      const token = readFileSync(path.join(home, 'server', 'local-token'), 'utf8').trim();
      const received = existsSync(seen) ? readFileSync(seen, 'utf8') : '';
      assert.ok(!received.includes(token), `the squatter received the local token:\n${received}`);
      assert.ok(!received.includes('s3cr3t-value-of-the-owner'), `the squatter received the secret:\n${received}`);
      assert.doesNotMatch(received, /authorization/i, 'no credentials of any kind');
      // The owner is told the port is taken instead (their own server could not listen on it).
      for (const r of runs) {
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /already in use/);
      }
    } finally {
      other.dispose();
      rmSync(home, { recursive: true, force: true });
    }
  });

});
