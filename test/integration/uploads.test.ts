import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ApiClient } from '../../client/api-client';
import { uploadTaskFiles } from '../../client/upload';
import { validateTask } from '../../protocol/task';
import { ALICE, startServer, type TestServer } from '../helpers/server';

describe('task files from a client on another machine', () => {
  let server: TestServer;
  let project: string;
  let remote: ApiClient;
  before(async () => {
    server = await startServer();
    project = mkdtempSync(path.join(os.tmpdir(), 'skydeck-project-'));
    mkdirSync(path.join(project, 'src'));
    writeFileSync(path.join(project, 'src', 'data.txt'), 'payload from the laptop\n');
    writeFileSync(path.join(project, 'run.sh'), '#!/bin/sh\necho "script ran with $(cat src/data.txt)"\n');
    chmodSync(path.join(project, 'run.sh'), 0o755);
    mkdirSync(path.join(project, '.git'));
    writeFileSync(path.join(project, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    symlinkSync('/etc/passwd', path.join(project, 'passwd-link'));
    writeFileSync(path.join(project, 'config.json'), '{"lr": 0.1}\n');
    // The test server runs on loopback; the client is told it is remote, as it would be from a laptop.
    const { authorization } = server.headers();
    remote = new ApiClient({ endpoint: { url: server.url, authorization, local: false, source: 'override' }, user: ALICE });
  });
  after(async () => {
    remote.close();
    rmSync(project, { recursive: true, force: true });
    await server.dispose();
  });

  it('uploads the workdir and file mounts, and the job runs on them', async () => {
    const task = validateTask({ workdir: project, file_mounts: { 'conf/config.json': path.join(project, 'config.json') }, run: './run.sh; cat ../mounts/conf/config.json; ls -a' });
    const uploaded = await uploadTaskFiles(remote, task);
    assert.match(uploaded.workdir as string, /^upload:\/\/[0-9a-f]{32}$/);
    assert.match(uploaded.file_mounts!['conf/config.json'] as string, /^upload:\/\/[0-9a-f]{32}\/config\.json$/);
    const id = await remote.submit('launch', { task: uploaded, clusterName: 'from-laptop' });
    const done = await server.waitFor(id);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
    const log = await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
    assert.match(log, /script ran with payload from the laptop/);
    assert.match(log, /"lr": 0\.1/);
    assert.doesNotMatch(log, /passwd-link|\.git\b/, 'links and .git are not uploaded');
  });

  it('a COPY storage mapping with a list of sources: each lands at <mount path>/<its name>, folders uploaded under their name', async () => {
    const task = validateTask({ file_mounts: { '~/inputs': { source: [path.join(project, 'src'), path.join(project, 'config.json')], mode: 'COPY' } }, run: 'cat ../mounts/inputs/src/data.txt ../mounts/inputs/config.json' });
    const uploaded = await uploadTaskFiles(remote, task);
    const sources = (uploaded.file_mounts!['~/inputs'] as { source: string[] }).source;
    assert.match(sources[0]!, /^upload:\/\/[0-9a-f]{32}\/src$/);
    assert.match(sources[1]!, /^upload:\/\/[0-9a-f]{32}\/config\.json$/);
    const id = await remote.submit('launch', { task: uploaded, clusterName: 'from-laptop-list' });
    const done = await server.waitFor(id);
    const log = await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
    assert.equal(done.status, 'SUCCEEDED', `${JSON.stringify(done.error)}\n${log}`);
    assert.match(log, /payload from the laptop/);
    assert.match(log, /"lr": 0\.1/);
  });

  it('uploads the same files once', async () => {
    const a = await uploadTaskFiles(remote, validateTask({ workdir: project }));
    const b = await uploadTaskFiles(remote, validateTask({ workdir: project }));
    assert.equal(a.workdir, b.workdir);
  });

  it('a task naming an upload the server does not have is refused at its key', async () => {
    const res = await server.json<{ error: { code: string; details: { path: string }[] } }>('/api/v1/launch', {
      method: 'POST',
      body: JSON.stringify({ clusterName: 'nope', task: { workdir: `upload://${'0'.repeat(32)}`, run: 'ls' } }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'task_invalid');
    assert.equal(res.body.error.details[0]!.path, 'task.workdir');
  });

  it('refuses bundles that would write outside their folder, or are malformed, and writes nothing', async () => {
    const entry = (p: string, content = 'x', mode = 0o644) => Buffer.concat([Buffer.from(JSON.stringify({ path: p, size: Buffer.byteLength(content), mode }) + '\n'), Buffer.from(content)]);
    const send = (data: Buffer, type = 'application/gzip') => server.fetch('/api/uploads', { method: 'POST', body: new Uint8Array(data), headers: { 'content-type': type } });
    const escapee = path.join(server.dataDir, 'escaped.txt');
    for (const bad of ['../escaped.txt', '../../escaped.txt', '/tmp/escaped.txt', 'a/../../escaped.txt', 'a\\..\\x', '', 'a//b']) {
      const res = await send(gzipSync(entry(bad)));
      assert.equal(res.status, 400, `path ${JSON.stringify(bad)}`);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /safe relative path/);
    }
    assert.equal(existsSync(escapee), false);
    assert.equal((await send(gzipSync(Buffer.concat([entry('twice'), entry('twice')])))).status, 400);
    assert.equal((await send(gzipSync(entry('cut', 'abcdef').subarray(0, 20)))).status, 400);
    assert.equal((await send(Buffer.from('not gzip at all'))).status, 400);
    assert.equal((await send(gzipSync(entry('ok')), 'text/plain')).status, 415);
    const setuid = await send(gzipSync(entry('suid', 'x', 0o4755)));
    assert.equal(setuid.status, 200, 'mode bits beyond rwx are dropped, not refused');
  });
});
