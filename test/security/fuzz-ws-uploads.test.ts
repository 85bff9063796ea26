// Fuzzing the WebSocket messages and upload bodies: every malformed frame gets an error message (an
// oversized one closes its connection with 1009), every malformed upload a 4xx, and meanwhile the
// server stays up, writes nothing outside its uploads, and another client's log stream and events go
// on untouched. Seeded: a failure prints the seed, SKYDECK_FUZZ_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { clientMessage } from '../../protocol/api';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { random, type Rng } from './helpers';

const SEED = Number(process.env.SKYDECK_FUZZ_SEED ?? Date.now() % 2 ** 31);
const WS_CLIENTS = 8;
const WS_MESSAGES = Number(process.env.SKYDECK_FUZZ_WS_MESSAGES ?? 400);
const UPLOADS = Number(process.env.SKYDECK_FUZZ_UPLOADS ?? 300);

const KEYS = ['type', 'sub', 'requestId', 'follow', 'tail', 'offset', '__proto__', 'constructor', ''];
const TYPES = ['ping', 'subscribe-log', 'subscribe-requests', 'subscribe-clusters', 'unsubscribe', 'PING', '', 'log', 'request'];
const ODD = ['', 'x'.repeat(65), '../../etc/passwd', '\u0000', '😀', 'ffffffff', '-1', 'a'.repeat(2000)];

function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 8)) {
    case 0: return r.pick(ODD);
    case 1: return r.pick([0, -1, 1.5, 1e308, 2 ** 53 + 1, 1_000_001]);
    case 2: return r.next() < 0.5;
    case 3: return null;
    case 4: return r.pick(TYPES);
    case 5: return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default: return message(r, depth + 1);
  }
}

function message(r: Rng, depth = 0): Record<string, unknown> {
  const m: Record<string, unknown> = r.next() < 0.8 ? { type: r.pick(TYPES) } : {};
  for (let i = r.int(4); i > 0; i--) m[r.pick(KEYS)] = value(r, depth);
  return m;
}

/** One malformed frame: the text it carries (or binary bytes), never a valid client message. */
function frame(r: Rng): { data: string | Buffer; binary: boolean } {
  for (;;) {
    const kind = r.int(10);
    if (kind === 0) return { data: Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256))), binary: true };
    let text = JSON.stringify(kind < 7 ? message(r) : value(r)) ?? 'null';
    if (kind === 9) text = r.pick([text.slice(0, Math.max(1, r.int(text.length))), `${text}}`, '{', '', '\u00ef\u00bb\u00bf{}', '[[[[[[[[[[[[[[[[[[[[', 'NaN', '{"type":"ping",}']);
    let valid = false;
    try {
      valid = clientMessage.safeParse(JSON.parse(text)).success;
    } catch {
      // not JSON at all: malformed indeed
    }
    if (!valid) return { data: text, binary: false };
  }
}

function connect(server: TestServer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers() });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('fuzzing WebSocket messages and upload bodies', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it(`answers ${WS_CLIENTS} x ${WS_MESSAGES} malformed WebSocket frames with an error each, while another client's stream goes on (seed ${SEED})`, async () => {
    // The bystander: follows a job's log and the request events for the whole run.
    const job = await server.submit('launch', { clusterName: 'fuzz-ws', task: { run: 'for i in $(seq 1 100000); do echo "tick $i"; sleep 0.05; done' } });
    const bystander = await connect(server);
    const ticks: number[] = [];
    let events = 0;
    bystander.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; data?: string };
      if (m.type === 'log') for (const line of (m.data ?? '').split('\n')) if (/^tick \d+$/.test(line)) ticks.push(Number(line.slice(5)));
      if (m.type === 'request' || m.type === 'requests-snapshot') events++;
    });
    bystander.send(JSON.stringify({ type: 'subscribe-requests' }));
    bystander.send(JSON.stringify({ type: 'subscribe-log', sub: 'job', requestId: job, follow: true }));
    await eventually(() => ticks.length > 3, 20_000, 'the bystander to get ticks');

    const r = random(SEED);
    const answers = new Map<string, number>();
    await Promise.all(
      Array.from({ length: WS_CLIENTS }, async (_, c) => {
        const ws = await connect(server);
        const replies: { type: string; code?: string }[] = [];
        let waiting: (() => void) | undefined;
        ws.on('message', (data) => {
          replies.push(JSON.parse(data.toString()));
          waiting?.();
        });
        for (let i = 0; i < WS_MESSAGES; i++) {
          const f = frame(r);
          const before = replies.length;
          ws.send(f.data, { binary: f.binary });
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`seed ${SEED}: client ${c} got no answer to ${JSON.stringify(String(f.data)).slice(0, 200)}`)), 10_000);
            waiting = () => replies.length > before && (clearTimeout(timer), resolve());
            waiting();
          });
          const reply = replies[before]!;
          assert.equal(reply.type, 'error', `seed ${SEED}: ${JSON.stringify(String(f.data)).slice(0, 200)} answered ${JSON.stringify(reply)}`);
          answers.set(reply.code!, (answers.get(reply.code!) ?? 0) + 1);
        }
        ws.close();
      }),
    );
    console.log(`# ws fuzz: ${WS_CLIENTS * WS_MESSAGES} frames, seed ${SEED}, error codes ${JSON.stringify(Object.fromEntries(answers))}`);

    // Frames past the 64 KiB limit close that connection, and only it.
    const huge = await connect(server);
    const closed = new Promise<number>((resolve) => huge.once('close', (code) => resolve(code)));
    huge.on('error', () => undefined);
    huge.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }));
    assert.equal(await closed, 1009);

    const ticksBefore = ticks.length;
    await eventually(() => ticks.length > ticksBefore + 5, 10_000, 'the bystander to keep getting ticks');
    assert.deepEqual(ticks, Array.from({ length: ticks.length }, (_, i) => i + 1), 'every tick once, in order');
    assert.ok(events > 0, 'the bystander got request events');
    assert.equal(bystander.readyState, WebSocket.OPEN);
    bystander.close();
    await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [job] }) });
    assert.equal((await server.fetch('/api/health')).status, 200);
    assert.doesNotMatch(server.output(), /internal error/);
  });

  it(`answers ${UPLOADS} malformed upload bodies with a 4xx each and writes nothing outside its uploads (seed ${SEED})`, async () => {
    const r = random(SEED + 1);
    const header = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields) + '\n');
    const bodies: (() => { body: Buffer; type: string })[] = [
      () => ({ body: Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256))), type: 'application/gzip' }),
      () => ({ body: gzipSync(Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256)))), type: 'application/gzip' }),
      () => {
        const good = gzipSync(Buffer.concat([header({ path: 'a.txt', size: 5, mode: 0o644 }), Buffer.from('hello')]));
        return { body: good.subarray(0, 1 + r.int(good.length - 1)), type: 'application/gzip' };
      },
      () => {
        const p = r.pick(['../escape.txt', '/etc/skydeck-fuzz', '', 'a/../../escape.txt', '.', './', 'a//b', '\u0000', 'x'.repeat(5000), 42, null]);
        return { body: gzipSync(Buffer.concat([header({ path: p, size: 3, mode: 0o644 }), Buffer.from('abc')])), type: 'application/gzip' };
      },
      () => {
        const size = r.pick([-1, 1.5, '3', 1e12, null]);
        const mode = r.pick([0o644, -1, 'rw', 1.5]);
        return { body: gzipSync(Buffer.concat([header({ path: 'b.txt', size, mode }), Buffer.from('abc')])), type: 'application/gzip' };
      },
      () => ({ body: gzipSync(Buffer.concat([header({ path: 'c.txt', size: 10, mode: 0o644 }), Buffer.from('short')])), type: 'application/gzip' }),
      () => ({ body: gzipSync(Buffer.concat([header({ path: 'd.txt', size: 1, mode: 0o644 }), Buffer.from('x'), header({ path: 'd.txt', size: 1, mode: 0o644 }), Buffer.from('y')])), type: 'application/gzip' }),
      () => ({ body: gzipSync(Buffer.from(`{"path":"e.txt",${'x'.repeat(20_000)}\n`)), type: 'application/gzip' }),
      () => ({ body: gzipSync(Buffer.concat([header({ path: 'f.txt', size: 1, mode: 0o644 }), Buffer.from('x')])), type: r.pick(['application/json', 'text/plain', 'multipart/form-data', '']) }),
    ];
    const { hostname, port } = new URL(server.url);
    const statuses = new Map<number, number>();
    for (let i = 0; i < UPLOADS; i++) {
      const { body, type } = r.pick(bodies)();
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: hostname, port, method: 'POST', path: '/api/uploads', headers: { ...server.headers(), ...(type ? { 'content-type': type } : {}) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.ok(status >= 400 && status < 500, `seed ${SEED}: upload ${i} (${body.length} bytes, ${type}) answered ${status}`);
    }
    console.log(`# upload fuzz: ${UPLOADS} bodies, seed ${SEED}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    for (const escaped of ['escape.txt', '../escape.txt']) assert.equal(existsSync(path.join(server.dataDir, 'uploads', escaped)), false);
    assert.equal(existsSync(path.join(server.dataDir, 'escape.txt')), false);
    assert.equal(existsSync('/etc/skydeck-fuzz'), false);
    await eventually(() => readdirSync(path.join(server.dataDir, 'uploads')).length === 0, 5000, `no upload or staging folder kept (${readdirSync(path.join(server.dataDir, 'uploads')).join(', ')})`);
    assert.equal((await server.fetch('/api/health')).status, 200);
    assert.doesNotMatch(server.output(), /internal error/);
  });
});
