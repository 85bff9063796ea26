// Bad input and abuse: each gets a clear 4xx or is dropped, the server stays up, and nothing outside
// the data dir is read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { parseTaskYaml, TaskValidationError } from '../../protocol/task';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { raw, upgrade } from './helpers';

const CLI_JS = path.resolve(__dirname, '../../dist/cli.js');

/** Sends raw bytes and resolves with what came back once the server closed the connection (or after ms). */
/** Opens n connections at once, holds them briefly, closes them: how many the server dropped. */
async function burstRefusals(host: string, port: number, n: number): Promise<number> {
  const sockets: net.Socket[] = [];
  let dropped = 0;
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const s = net.connect(port, host, () => resolve());
      s.on('close', () => dropped++);
      s.on('error', () => resolve());
      sockets.push(s);
    })),
  );
  await new Promise((r) => setTimeout(r, 300));
  const refused = dropped;
  for (const s of sockets) s.destroy();
  await eventually(() => dropped === n, 5_000, 'the burst to close');
  return refused;
}

function rawSocket(url: string, bytes: string, ms = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d) => (got += d));
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('error', () => undefined);
  });
}

describe('bad input', () => {
  let server: TestServer;
  let auth: Record<string, string>;
  before(async () => {
    server = await startServer();
    auth = { authorization: `Bearer ${readFileSync(path.join(server.dataDir, 'local-token'), 'utf8').trim()}` };
  });
  after(() => server.dispose());
  const json = { 'content-type': 'application/json' };

  it('refuses path characters in request ids, cluster names and log paths', async () => {
    const probes: [string, string, string?][] = [
      ['GET', '/api/requests/..%2F..%2F..%2Fetc%2Fpasswd'],
      ['GET', '/api/requests/%2e%2e%2fstate.json'],
      ['GET', '/api/requests/..'],
      ['GET', '/api/stream?request_id=../../../../etc/passwd&format=plain'],
      ['GET', '/api/stream?request_id=%2Fetc%2Fpasswd&format=plain'],
      ['GET', '/api/stream?request_id=abc%00def&format=plain'],
      ['GET', '/api/clusters/..%2F..%2Fetc/jobs'],
      ['GET', '/api/requests?cluster=../../etc'],
      ['POST', '/api/cancel', '{"requestIds":["../../etc/passwd"]}'],
      ['POST', '/api/v1/launch', '{"clusterName":"../../etc","task":{"run":"true"}}'],
      ['POST', '/api/v1/down', '{"clusterName":"a/../../b"}'],
      ['POST', '/api/v1/job_logs', '{"clusterName":"x\\u0000y"}'],
      ['POST', '/api/v1/queue', '{"clusterName":"/etc/passwd"}'],
    ];
    for (const [method, pathname, body] of probes) {
      const res = await raw(server.url, { method, path: pathname, headers: { ...auth, ...(body ? json : {}) }, body });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${pathname}: ${res.status}`);
      assert.doesNotMatch(res.text, /root:x:0:0|"requests":\{/, `${method} ${pathname} leaked a file`);
      if (res.headers['content-type']?.includes('json')) assert.ok(res.json().error?.message, `${method} ${pathname} says why`);
    }
  });

  it('refuses header injection and control characters in user names', async () => {
    for (const name of ['alice%0d%0aSet-Cookie:%20x=1', 'bob%07', 'x'.repeat(65), 'eve%0a', '%E2%80%AE' + 'evil']) {
      const res = await raw(server.url, { path: '/api/requests', headers: { ...auth, 'x-skydeck-user-id': 'a11ce000', 'x-skydeck-user-name': name } });
      assert.equal(res.status, 400, name);
      assert.equal(res.headers['set-cookie'], undefined);
    }
    // A raw CR or LF inside a header value never reaches the app: Node's parser refuses the request.
    const answer = await rawSocket(server.url, `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Skydeck-User-Name: ali\rce\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400/);
    // A name that is fine, non-ASCII and percent-encoded as the client sends it, is taken.
    const ok = await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth, ...json, 'x-skydeck-user-id': 'a11ce000', 'x-skydeck-user-name': encodeURIComponent('Zoë') }, body: '{}' });
    assert.equal(ok.status, 202);
    assert.equal((await server.waitFor(ok.json<{ requestId: string }>().requestId)).user.name, 'Zoë');
  });

  it('refuses oversized, deep, mistyped and wrongly typed bodies with a 4xx', async () => {
    const big = JSON.stringify({ clusterName: 'x', task: { run: 'x'.repeat(2 * 1024 * 1024) } });
    assert.equal((await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { ...auth, ...json }, body: big })).status, 413);
    const chunked = await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { ...auth, ...json, 'transfer-encoding': 'chunked' }, body: big });
    assert.equal(chunked.status, 413);
    const deep = '{"a":'.repeat(200) + '1' + '}'.repeat(200);
    assert.equal((await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth, ...json }, body: deep })).status, 400);
    assert.equal((await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...auth, 'content-type': 'text/yaml' }, body: 'a: 1' })).status, 415);
    for (const body of ['{"clusterName": 5, "task": {}}', '{"clusterName":"ok","task":{"num_nodes":"many"}}', '{"__proto__":{"admin":true}}', '[]', 'null', '"launch"', '{"clusterName":"ok","task":{"run":"true"},"extra":1}']) {
      const res = await raw(server.url, { method: 'POST', path: '/api/v1/launch', headers: { ...auth, ...json }, body });
      assert.equal(res.status, 400, body);
    }
    assert.equal((await raw(server.url, { path: '/api/health' })).status, 200);
  });

  it('stops YAML alias bombs and huge task files before they expand, in the library and in the CLI', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`), 'run: echo hi'].join('\n');
    const t0 = performance.now();
    assert.throws(() => parseTaskYaml(bomb, 'bomb.yaml'), (err: unknown) => err instanceof TaskValidationError && /alias|Excessive/i.test(err.message));
    assert.ok(performance.now() - t0 < 1000, 'refused quickly');
    assert.throws(() => parseTaskYaml(`run: |\n${'  echo x\n'.repeat(200_000)}`), /larger than/);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bomb-'));
    try {
      writeFileSync(path.join(dir, 'bomb.yaml'), bomb);
      const r = spawnSync(process.execPath, [CLI_JS, 'launch', '-y', '-c', 'bomb', path.join(dir, 'bomb.yaml')], { env: { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /alias/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops slow-loris connections that never finish their headers', async () => {
    const { hostname, port } = new URL(server.url);
    const t0 = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      const drip = setInterval(() => socket.write('X-a: b\r\n'), 500);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      socket.on('error', () => undefined);
    });
    assert.ok(closedAfter >= 9_000 && closedAfter < 20_000, `closed after ${closedAfter} ms`);
  });

  it('caps connections per client address and keeps serving', async () => {
    const { hostname, port } = new URL(server.url);
    const sockets: net.Socket[] = [];
    let dropped = 0;
    await Promise.all(
      Array.from({ length: 700 }, () => new Promise<void>((resolve) => {
        const s = net.connect(Number(port), hostname, () => resolve());
        s.on('close', () => dropped++);
        s.on('error', () => resolve());
        sockets.push(s);
      })),
    );
    // Drops reach the client a little later on a busy machine: wait for them rather than guess a delay.
    await eventually(() => dropped >= 700 - 512, 10_000, 'the server to drop the connections past its cap').catch(() => undefined);
    assert.ok(dropped >= 700 - 512, `${dropped} of 700 idle connections dropped`);
    assert.ok(dropped <= 700 - 512 + 64, `${dropped} of 700 dropped: the cap let too few in`);
    for (const s of sockets) s.destroy();
    // Closed connections give their places back: a new burst is let in whole (which the next tests rely on).
    await eventually(async () => (await burstRefusals(hostname, Number(port), 200)) === 0, 15_000, 'the cap to free the places of closed connections');
    assert.equal((await raw(server.url, { path: '/api/health' })).status, 200);
  });

  it('refuses thousands of WebSocket connections from one client past its cap, and stays up', async () => {
    const open: WebSocket[] = [];
    const outcomes: ('open' | number)[] = [];
    for (let batch = 0; batch < 20; batch++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 100 }, () => upgrade(server.url, auth, open)))));
    }
    const opened = outcomes.filter((o) => o === 'open').length;
    assert.equal(opened, 64);
    assert.equal(outcomes.filter((o) => o === 429).length, 2000 - 64);
    assert.equal((await raw(server.url, { path: '/api/health' })).status, 200);
    for (const ws of open) ws.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await upgrade(server.url, auth), 'open');
  });

  it('a file mount target outside the local sandbox is refused before any cluster is made', async () => {
    const source = mkdtempSync(path.join(os.tmpdir(), 'skydeck-mount-src-'));
    try {
      writeFileSync(path.join(source, 'f.txt'), 'x\n');
      for (const [i, target] of ['/etc/skydeck-escape.txt', '../../../../escape.txt', '~/../../escape.txt'].entries()) {
        const name = `escape${i}`;
        const id = await server.submit('launch', { clusterName: name, task: { run: 'true', resources: { infra: 'local' }, file_mounts: { [target]: path.join(source, 'f.txt') } } });
        const done = await server.waitFor(id, 30);
        assert.equal(done.status, 'FAILED', target);
        assert.match(done.error!.message, new RegExp(`file_mounts\\.${target.replace(/[.*+?^${}()|[\]\\/~]/g, '\\$&')}: local infra mounts only under the cluster sandbox`), done.error!.message);
        assert.equal((await server.fetch(`/api/clusters/${name}/jobs`)).status, 404, `no cluster ${name} was left behind`);
        assert.throws(() => readFileSync(path.join(server.dataDir, 'clusters', name, 'jobs')), /ENOENT/, 'no sandbox');
      }
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });
});
