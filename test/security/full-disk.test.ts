// A full disk fails the one request, never the server, and leaves no half record: the data dir on a
// small tmpfs mounted by the test (unmounted in cleanup even when the test fails).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ApiRequest } from '../../protocol/model';
import { ALICE, eventually, SERVER_JS, startServer, type TestServer } from '../helpers/server';

const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs of `size` on a new directory; the returned function unmounts and removes it. */
export function mountTmpfs(size: string): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr}`);
  return {
    dir,
    unmount: () => {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem holding `dir` to the last byte; returns the filler file. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'a');
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 8, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // this size no longer fits: try a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Every line of a JSON-lines file parses, and the file ends with a newline (no half record). */
function assertWholeRecords(file: string): number {
  const text = readFileSync(file, 'utf8');
  if (text === '') return 0;
  assert.ok(text.endsWith('\n'), `${path.basename(file)} ends in the middle of a record: ...${JSON.stringify(text.slice(-80))}`);
  const lines = text.slice(0, -1).split('\n');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `${path.basename(file)} holds a half record: ${line.slice(0, 80)}`);
  return lines.length;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('a full disk', { skip: !isRoot && 'mounting a tmpfs needs root' }, () => {
  let disk: { dir: string; unmount: () => void };
  let server: TestServer | undefined;
  let restarted: ReturnType<typeof spawn> | undefined;
  before(() => {
    disk = mountTmpfs('3m');
  });
  after(async () => {
    await server?.kill9();
    restarted?.kill('SIGKILL');
    disk.unmount();
  });

  it('fails the one request, keeps the server up, leaves whole records, and a restart on it still shows status and cleans up', async () => {
    server = await startServer({ home: disk.dir });
    const long = await server.submit('launch', { clusterName: 'keep', task: { run: 'echo started; sleep 600' } });
    await eventually(async () => (await server!.fetch(`/api/stream?request_id=${long}&follow=0`).then((r) => r.text())).includes('started'), 15_000, 'the long job to start');
    const filler = fillDisk(disk.dir);

    // 400 short requests on a full disk: every answer is a 202 or a clear 507, and the server lives.
    const answers: number[] = [];
    const accepted: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await server!.json<{ requestId?: string; error?: { code: string } }>('/api/v1/status', { method: 'POST', body: '{}' });
          answers.push(res.status);
          if (res.status === 202) accepted.push(res.body.requestId!);
          else assert.equal(res.body.error?.code, 'insufficient_storage');
        }),
      );
    }
    assert.deepEqual([...new Set(answers)].filter((s) => s !== 202 && s !== 507), [], `answers: ${[...new Set(answers)]}`);
    assert.equal((await server.fetch('/api/health')).status, 200, `the server died:\n${server.output().slice(-2000)}`);
    for (const id of accepted) assert.ok(['SUCCEEDED', 'FAILED'].includes((await server.waitFor(id, 10)).status));

    // Work a restart could not find again is refused up front, with the reason.
    const launch = await server.json<{ error: { code: string; message: string } }>('/api/v1/launch', { method: 'POST', body: JSON.stringify({ clusterName: 'more', task: { run: 'true' } }) });
    assert.equal(launch.status, 507);
    assert.equal(launch.body.error.code, 'insufficient_storage');
    assert.match(launch.body.error.message, /full/);

    // An upload has nowhere to go: 507 too, and nothing half-unpacked is left.
    const bundle = gzipSync(Buffer.concat([Buffer.from(JSON.stringify({ path: 'a.txt', size: 65536, mode: 0o644 }) + '\n'), Buffer.alloc(65536, 0x61)]));
    const upload = await server.fetch('/api/uploads', { method: 'POST', body: new Uint8Array(bundle), headers: { 'content-type': 'application/gzip' } });
    assert.equal(upload.status, 507, await upload.text());
    assert.deepEqual(readdirSync(path.join(server.dataDir, 'uploads')), []);

    const dataDir = server.dataDir;
    for (const file of [path.join(dataDir, 'requests.jsonl'), ...readdirSync(path.join(dataDir, 'history')).map((f) => path.join(dataDir, 'history', f))]) assertWholeRecords(file);

    // kill -9 and start again on the still-full disk: it starts, shows status, cancels, cleans up.
    await server.kill9();
    server = undefined;
    const port = await freePort();
    restarted = spawn(process.execPath, [SERVER_JS, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], { env: { ...process.env, SKYDECK_HOME: disk.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    restarted.stdout!.on('data', (d) => (output += d));
    restarted.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    const token = readFileSync(path.join(dataDir, 'local-token'), 'utf8').trim();
    const call = async <T>(pathname: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(url + pathname, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-skydeck-user-id': ALICE.id, 'x-skydeck-user-name': ALICE.name, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    await eventually(async () => (await fetch(`${url}/api/health`).catch(() => undefined))?.status === 200 || (restarted!.exitCode !== null ? 'exited' : false), 15_000, 'the restarted server');
    assert.equal(restarted.exitCode, null, `the server did not start on a full disk:\n${output}`);
    assert.equal((await call('/api/requests?all=1')).status, 200);
    assert.equal((await call<{ clusters: { name: string }[] }>('/api/clusters')).body.clusters[0]?.name, 'keep');
    const status = await call<{ requestId: string }>('/api/v1/status', {});
    assert.equal(status.status, 202, JSON.stringify(status.body));
    const cancel = await call<{ cancelled: string[] }>('/api/cancel', { requestIds: [long] });
    assert.deepEqual(cancel.body.cancelled, [long]);
    assert.equal((await call<ApiRequest>(`/api/requests/${long}`)).body.status, 'CANCELLED');
    const down = await call<{ requestId: string }>('/api/v1/down', { clusterName: 'keep' });
    assert.equal(down.status, 202, JSON.stringify(down.body));
    assert.equal((await call<ApiRequest>(`/api/requests/${down.body.requestId}?wait=20`)).body.status, 'SUCCEEDED', output);

    // Space freed: everything works again, and what was written meanwhile is whole.
    rmSync(filler);
    const again = await call<{ requestId: string }>('/api/v1/launch', { clusterName: 'more', task: { run: 'echo after' } });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal((await call<ApiRequest>(`/api/requests/${again.body.requestId}?wait=30`)).body.status, 'SUCCEEDED', output);
    assert.ok(existsSync(path.join(dataDir, 'state.json')));
    for (const file of [path.join(dataDir, 'requests.jsonl'), ...readdirSync(path.join(dataDir, 'history')).map((f) => path.join(dataDir, 'history', f))]) assertWholeRecords(file);
    restarted.kill('SIGTERM');
  });
});

describe('a failed journal compaction', () => {
  let server: TestServer | undefined;
  after(() => server?.dispose());

  it('keeps writing the journal into the journal, and nothing is lost', async () => {
    server = await startServer();
    // The temporary file of the next compaction cannot be created: compaction fails.
    mkdirSync(path.join(server.dataDir, 'requests.jsonl.tmp'));
    const ids: string[] = [];
    const statuses = new Set<number>();
    // Each short request adds three journal lines: well past the 10,000 lines that start a compaction.
    for (let batch = 0; batch < 180; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await server!.json<{ requestId: string }>('/api/v1/status', { method: 'POST', body: '{}' });
          statuses.add(res.status);
          if (res.status === 202) ids.push(res.body.requestId);
        }),
      );
    }
    assert.deepEqual([...statuses], [202]);
    for (const id of ids.slice(-20)) assert.equal((await server.waitFor(id, 10)).status, 'SUCCEEDED');
    const journalLines = assertWholeRecords(path.join(server.dataDir, 'requests.jsonl'));
    assert.ok(journalLines > 10_000, `the journal kept growing past the failed compaction (${journalLines} lines)`);
    // No journal line landed in a request log or a history segment.
    for (const dir of ['logs', 'history']) {
      for (const f of readdirSync(path.join(server.dataDir, dir))) assert.doesNotMatch(readFileSync(path.join(server.dataDir, dir, f), 'utf8'), /"removed":true/, `${dir}/${f} holds journal lines`);
    }
    rmSync(path.join(server.dataDir, 'requests.jsonl.tmp'), { recursive: true });
    server = await server.restart();
    const all = await server.json<{ requests: { id: string; status: string }[] }>('/api/requests?all=1&limit=100000');
    const byId = new Map(all.body.requests.map((r) => [r.id, r.status]));
    assert.deepEqual(ids.filter((id) => byId.get(id) !== 'SUCCEEDED'), [], 'every request is recorded SUCCEEDED after a restart');
  });
});
