// Many WebSocket followers of one request log share one tail on the server: each still receives every
// byte from where it started, in order, exactly once, with one `log-end` after the last chunk; a
// follower whose client stops reading, or one that hangs up, changes nothing for the others.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../protocol/api';
import { eventually, startServer, type TestServer } from '../helpers/server';

interface Stream {
  from: number;
  text: string;
  offset: number;
  /** Anything out of order: a chunk whose offset does not follow from the previous one, or a chunk after log-end. */
  faults: string[];
  ends: number;
}

/** One connection with its subscriptions, each checked as its messages arrive. */
async function connect(server: TestServer): Promise<{ ws: WebSocket; socket: Socket; subscribe: (sub: string, requestId: string, start?: { offset?: number }) => Stream }> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers() });
  const streams = new Map<string, Stream>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as ServerMessage;
    if (m.type !== 'log' && m.type !== 'log-end') return;
    const s = streams.get(m.sub)!;
    if (m.type === 'log-end') {
      s.ends++;
      return;
    }
    if (s.ends) s.faults.push('log after log-end');
    const expected = s.offset + Buffer.byteLength(m.data);
    if (m.offset !== expected) s.faults.push(`offset ${m.offset} after ${s.offset} + ${Buffer.byteLength(m.data)} bytes`);
    s.offset = m.offset;
    s.text += m.data;
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    ws,
    socket: (ws as unknown as { _socket: Socket })._socket,
    subscribe(sub, requestId, start = {}) {
      const from = start.offset ?? 0;
      const s: Stream = { from, text: '', offset: from, faults: [], ends: 0 };
      streams.set(sub, s);
      ws.send(JSON.stringify({ type: 'subscribe-log', sub, requestId, follow: true, ...start }));
      return s;
    },
  };
}

describe('log fan-out to many WebSocket followers', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('every follower gets every byte from its offset once, in order, whatever the others do', async () => {
    // About 3 MB written at full speed once every follower is attached (the job waits for the go file).
    const go = path.join(server.home, 'go');
    const id = await server.submit('launch', { clusterName: 'fanout', task: { run: `while [ ! -e ${go} ]; do sleep 0.05; done; seq 1 450000; echo é€😀` } });

    const live = await Promise.all(Array.from({ length: 6 }, () => connect(server)));
    const streams = live.map((c) => c.subscribe('log-1', id));
    // Two subscriptions of the same log on one connection.
    const twice = live[0]!.subscribe('log-2', id);
    // A client that stops reading at the TCP level until every other follower is done: nobody waits for it.
    const stalled = await connect(server);
    const stalledStream = stalled.subscribe('log-1', id);
    stalled.socket.pause();
    // A client that hangs up after its first chunk.
    const leaver = await connect(server);
    const leaverStream = leaver.subscribe('log-1', id);

    // An HTTP stream of the same log (it shares the same tail of the file on the server).
    const http = (async () => {
      const res = await server.fetch(`/api/stream?request_id=${id}&format=plain`);
      const parts: Buffer[] = [];
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(part));
      return Buffer.concat(parts);
    })();

    writeFileSync(go, '');
    await eventually(() => leaverStream.text.length > 0, 60_000, 'the leaver to get its first chunk');
    leaver.ws.terminate();
    // A follower that resumes from an offset another follower was sent (as a reconnecting client does).
    await eventually(() => streams[0]!.offset > 1_000_000, 60_000, 'a megabyte to be written');
    const resumeAt = streams[0]!.offset;
    const resumed = (await connect(server)).subscribe('log-1', id, { offset: resumeAt });

    const done = await server.waitFor(id, 120);
    assert.equal(done.status, 'SUCCEEDED');
    const log = readFileSync(path.join(server.dataDir, 'logs', `${id}.log`));
    const everyone = [...streams, twice, resumed];
    await eventually(() => everyone.every((s) => s.ends === 1), 120_000, 'every live follower to reach log-end');
    stalled.socket.resume();
    await eventually(() => stalledStream.ends === 1, 120_000, 'the stalled follower to reach log-end once resumed');

    for (const [name, s] of [...everyone.map((s, i) => [`follower ${i}`, s] as const), ['stalled', stalledStream] as const]) {
      assert.deepEqual(s.faults, [], name);
      assert.equal(s.offset, log.length, `${name} ends at the end of the log`);
      assert.ok(s.text === log.subarray(s.from).toString('utf8'), `${name} got every byte from ${s.from} in order, once`);
      assert.equal(s.ends, 1);
    }
    // Less the heartbeats (NUL) the HTTP stream adds on long silences; the log itself has none.
    assert.ok(Buffer.from((await http).filter((byte) => byte !== 0)).equals(log), 'the HTTP stream got the log file byte for byte');
    assert.ok(log.includes('é€😀\n'), 'the job printed its multi-byte last line');
    assert.equal(resumed.from, resumeAt);
    assert.deepEqual(leaverStream.faults, []);
    for (const c of [...live, stalled]) c.ws.close();
  });
});
