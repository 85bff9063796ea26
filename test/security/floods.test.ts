// Floods: bodies and uploads meant to exhaust the server's memory or stack get a clear 4xx, and the
// server stays up and small. (WebSocket consumers that stop reading: slow-readers.test.ts.)
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { gzipBomb, memoryOf } from './flood-tools';
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
});
