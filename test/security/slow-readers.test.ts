// Slow readers: a WebSocket client that never reads, or followers that stop reading a big log, are
// paused or dropped with a message, and the server stays up and small. (Bodies and uploads: floods.test.ts.)
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { follower, memoryOf } from './flood-tools';

describe('slow readers', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

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
