// Floods: bodies, uploads and WebSocket consumers meant to exhaust the server's memory or stack get a
// clear 4xx (or a slow consumer is paused or dropped), and the server stays up and small.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { follower, gzipBomb, memoryOf } from './flood-tools';
import { raw } from './helpers';

describe('floods', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('a JSON body nested 400,000 levels deep is a 400, not a 500', async () => {
    const body = '['.repeat(400_000) + ']'.repeat(400_000);
    const res = await raw(server.url, { method: 'POST', path: '/api/v1/status', headers: { ...server.headers(), 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json().error!.message, /nests deeper than 32 levels/);
    assert.equal((await server.fetch('/api/health')).status, 200);
  });

  it('eight concurrent gzip bombs each fail with a 413, and the server stays small', async (t) => {
    // A server of its own: the peak resident size is the process's whole life.
    const server = await startServer();
    t.after(() => server.dispose());
    const bomb = await gzipBomb(300 * 2 ** 20);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => raw(server.url, { method: 'POST', path: '/api/uploads', headers: { ...server.headers(), 'content-type': 'application/gzip' }, body: bomb })),
    );
    for (const a of answers) {
      assert.equal(a.status, 413, a.text);
      assert.match(a.json().error!.message, /expands past/);
    }
    const { peakMb } = memoryOf(server.process.pid!);
    console.log(`# server peak RSS with 8 concurrent upload bombs (${(bomb.length / 1024).toFixed(0)} KB compressed, 300 MiB each expanded): ${peakMb} MB`);
    assert.ok(peakMb < 300, `peak RSS ${peakMb} MB`);
    assert.equal((await server.fetch('/api/health')).status, 200);
  });

  it('an upload that stalls mid-body is answered 408 and its staging folder removed', { timeout: 60_000 }, async () => {
    const { hostname, port } = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: hostname, port, method: 'POST', path: '/api/uploads', headers: { ...server.headers(), 'content-type': 'application/gzip', 'content-length': '1000000' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const bundle = Buffer.concat([Buffer.from(JSON.stringify({ path: 'a.bin', size: 100_000, mode: 0o644 }) + '\n'), randomBytes(100_000)]);
      req.write(gzipSync(bundle).subarray(0, 1000)); // the start of a real bundle, then nothing more
    });
    assert.equal(status, 408);
    await eventually(() => !readdirSync(path.join(server.dataDir, 'uploads')).some((f) => f.startsWith('.incoming-')), 5000, 'staging removed');
  });

  it('a client that sends but never reads is dropped with a message once its answers pile up', { timeout: 120_000 }, async () => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers() });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const messages: { type: string; code?: string }[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    // A million pings: the server's pongs would pile up for a reader that never reads.
    const ping = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < 1_000_000 && ws.readyState === ws.OPEN; i++) {
      ws.send(ping);
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 3000));
    socket.resume();
    const code = await closed;
    assert.ok(code === 1008 || code === 1006, `closed with ${code}`);
    if (code === 1008) assert.ok(messages.some((m) => m.type === 'error' && m.code === 'too_slow'), 'told why');
    assert.ok(messages.filter((m) => m.type === 'pong').length < 1_000_000, 'dropped before every answer was buffered');
    assert.equal((await server.fetch('/api/health')).status, 200);
  });

  it('64 paused followers of a 40 MB log hold the server under 300 MB, and each gets every byte once it reads again', { timeout: 170_000 }, async (t) => {
    const server = await startServer();
    t.after(() => server.dispose());
    const size = 40 * 1000 * 1000;
    const id = await server.submit('launch', { clusterName: 'loud', task: { run: `yes "$(printf 'x%.0s' $(seq 1 99))" | head -c ${size}` } });
    const followers = await Promise.all(Array.from({ length: 64 }, () => follower(server, id)));
    for (const f of followers) f.pause();
    const done = await server.waitFor(id, 120);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
    await new Promise((r) => setTimeout(r, 2000)); // every stream has read as far as it may
    const { peakMb } = memoryOf(server.process.pid!);
    console.log(`# server peak RSS with 64 paused WebSocket followers of a ${size / 1e6} MB log: ${peakMb} MB`);
    assert.ok(peakMb < 300, `peak RSS ${peakMb} MB`);
    const logBytes = statSync(path.join(server.dataDir, 'logs', `${id}.log`)).size;
    for (const f of followers) f.resume();
    await eventually(() => followers.every((f) => f.received() === logBytes), 120_000, 'every follower to receive the whole log');
    for (const f of followers) f.ws.close();
  });
});
