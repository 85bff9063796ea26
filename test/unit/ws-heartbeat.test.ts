// The heartbeat cuts a client that stopped answering pings (vanished without a close frame) and keeps
// one that answers, on a real WebSocket server on loopback.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Heartbeat } from '../../server/http/ws-heartbeat';

describe('WebSocket heartbeat', () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const heartbeat = new Heartbeat(wss, 100);
  wss.on('connection', (ws) => heartbeat.watch(ws));
  after(async () => {
    heartbeat.stop();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('cuts a client that no longer answers pings and keeps one that does', { timeout: 10_000 }, async () => {
    await once(wss, 'listening');
    const { port } = wss.address() as { port: number };
    const answering = new WebSocket(`ws://127.0.0.1:${port}`);
    const silent = new WebSocket(`ws://127.0.0.1:${port}`, { autoPong: false });
    await Promise.all([once(answering, 'open'), once(silent, 'open')]);
    let pings = 0;
    answering.on('ping', () => pings++);
    const [code] = (await once(silent, 'close')) as [number];
    assert.equal(code, 1006, 'cut without a close frame, as a dead peer would be');
    assert.equal(answering.readyState, WebSocket.OPEN);
    assert.ok(pings >= 1, 'the answering client was pinged too');
    answering.close();
  });
});
