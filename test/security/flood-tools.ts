// Tools of the flood tests and the security bench: a process's memory, real gzip bombs, and WebSocket
// log followers whose reading can be paused at the TCP level.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createGzip } from 'node:zlib';
import WebSocket from 'ws';
import type { TestServer } from '../helpers/server';

/** Peak and current resident memory of a process, in MB. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
}

/** A real gzip bomb: one bundle entry claiming `expandsTo` bytes of zeros, a few hundred KB compressed. */
export async function gzipBomb(expandsTo: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  gzip.write(JSON.stringify({ path: 'bomb.bin', size: expandsTo, mode: 0o644 }) + '\n');
  const zeros = Buffer.alloc(1 << 20);
  for (let left = expandsTo; left > 0; left -= zeros.length) {
    if (!gzip.write(zeros.subarray(0, Math.min(zeros.length, left)))) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

/** A WebSocket follower of a request's log whose reading can be paused at the TCP level. */
export function follower(server: TestServer, requestId: string): Promise<{ ws: WebSocket; received: () => number; pause: () => void; resume: () => void; messages: { type: string; code?: string }[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers() });
    let bytes = 0;
    const messages: { type: string; code?: string }[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; data?: string; code?: string };
      if (m.type === 'log') bytes += Buffer.byteLength(m.data ?? '');
      else messages.push(m);
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's', requestId, follow: true }));
      const socket = (ws as unknown as { _socket: Socket })._socket;
      resolve({ ws, received: () => bytes, pause: () => socket.pause(), resume: () => socket.resume(), messages });
    });
  });
}
