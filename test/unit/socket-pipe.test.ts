// pipeToWebSocket (shared/socket-pipe.ts), on a real TCP connection and a real WebSocket pair on loopback:
// the socket stops being read just past the high-water mark while the WebSocket's reader stalls, is read
// again below half of it once the reader reads, and every byte arrives in order.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { frameBytes, pipeToWebSocket } from '../../shared/socket-pipe';
import { eventually } from '../helpers/server';

const HIGH_WATER = 1024 * 1024;
/** Node reads at most this from a TCP socket at a time: one frame past the mark is as far as it may go. */
const MAX_READ = 64 * 1024;
/** More than the loopback kernel buffers between the two WebSocket ends take in before ws buffers. */
const TOTAL = 32 * 1024 * 1024;

describe('pipeToWebSocket', () => {
  const cleanup: (() => void)[] = [];
  after(() => {
    for (const c of cleanup.reverse()) c();
  });

  it('pauses the socket past the mark while the reader stalls, resumes it below half, and loses nothing', { timeout: 30_000 }, async () => {
    // The WebSocket pair: `sender` is the piped end, `reader` the far end, which reads nothing at first.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    cleanup.push(() => wss.close());
    await once(wss, 'listening');
    const readerP = once(wss, 'connection') as Promise<[WebSocket]>;
    const sender = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`, { perMessageDeflate: false });
    cleanup.push(() => sender.terminate());
    const [[reader]] = await Promise.all([readerP, once(sender, 'open')]);
    reader.pause();
    const received: Buffer[] = [];
    let receivedBytes = 0;
    reader.on('message', (data) => {
      const bytes = frameBytes(data);
      received.push(bytes);
      receivedBytes += bytes.length;
    });

    // The TCP connection: `writer` writes as fast as its socket takes it, `source` is what gets piped.
    const tcp = net.createServer();
    cleanup.push(() => tcp.close());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const sourceP = once(tcp, 'connection') as Promise<[net.Socket]>;
    const writer = net.connect((tcp.address() as net.AddressInfo).port, '127.0.0.1');
    cleanup.push(() => writer.destroy());
    const [source] = await sourceP;
    cleanup.push(() => source.destroy());

    // What ws holds when the pipe pauses and resumes the socket (the events fire before any further read).
    const marks: { event: 'pause' | 'resume'; buffered: number }[] = [];
    source.on('pause', () => marks.push({ event: 'pause', buffered: sender.bufferedAmount }));
    source.on('resume', () => marks.push({ event: 'resume', buffered: sender.bufferedAmount }));
    pipeToWebSocket(source, sender, HIGH_WATER);

    const data = randomBytes(TOTAL);
    void (async () => {
      for (let at = 0; at < TOTAL && !writer.destroyed; at += MAX_READ) {
        if (!writer.write(data.subarray(at, at + MAX_READ))) await once(writer, 'drain');
      }
    })().catch(() => undefined);

    await eventually(() => source.isPaused(), 10_000, 'the source to be paused while its reader stalls');
    const paused = marks.findLast((m) => m.event === 'pause')!;
    assert.ok(paused.buffered > HIGH_WATER, `paused with ${paused.buffered} bytes waiting, not past the mark`);
    assert.ok(paused.buffered <= HIGH_WATER + MAX_READ + 16, `paused only with ${paused.buffered} bytes waiting, more than one read past the mark`);
    // While the reader still reads nothing, the socket stays paused and ws holds no more than then.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(source.isPaused(), 'the source was read again while its reader read nothing');
    assert.ok(sender.bufferedAmount <= paused.buffered, `ws went on buffering (${paused.buffered} then ${sender.bufferedAmount} bytes)`);
    assert.equal(receivedBytes, 0, 'the stalled reader read');

    reader.resume();
    await eventually(() => receivedBytes === TOTAL, 20_000, `all ${TOTAL} bytes to arrive`);
    assert.equal(createHash('sha256').update(Buffer.concat(received)).digest('hex'), createHash('sha256').update(data).digest('hex'), 'the bytes arrived changed or out of order');
    const pauses = marks.filter((m) => m.event === 'pause');
    // The first resume is the pipe starting to read; every later one follows a pause and must be below half.
    // (Loopback's kernel buffers take what waits in one go, so this cannot tell half from the mark itself.)
    const resumes = marks.filter((m) => m.event === 'resume').slice(1);
    assert.ok(resumes.length >= 1, 'the source was never read again');
    for (const p of pauses) assert.ok(p.buffered > HIGH_WATER, `a pause at ${p.buffered} bytes, under the mark`);
    for (const r of resumes) assert.ok(r.buffered < HIGH_WATER / 2, `a resume at ${r.buffered} bytes, not below half the mark`);
  });
});
