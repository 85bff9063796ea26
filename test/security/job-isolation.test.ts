// Local jobs on a team server (--team-local-infra) run under a uid of their own per cluster: a member's
// job cannot read or change the server's accounts and state, nor another member's cluster, and yet runs,
// streams its log, reads its uploads and is stopped whole by cancel and down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleDirectory } from '../../client/upload';
import { ApiClient } from '../../client/api-client';
import { TerminalSession, type TerminalEnd } from '../../client/terminal';
import type { ApiRequest } from '../../protocol/model';
import { eventually, processesWith, type TestServer } from '../helpers/server';
import { admin, call, startTeamServer, type Account } from './helpers';

const asRoot = process.getuid?.() === 0;

describe('local jobs on a team server run under uids of their own', { skip: !asRoot && 'needs root (to switch uids)' }, () => {
  let server: TestServer;
  let bob: Account;
  let carol: Account;
  before(async () => {
    const team = await startTeamServer([
      { name: 'alice', role: 'admin' },
      { name: 'bob', role: 'user' },
      { name: 'carol', role: 'user' },
    ]);
    server = team.server;
    ({ bob, carol } = team.accounts);
  });
  after(() => server.dispose());

  const launch = async (who: Account, clusterName: string, task: Record<string, unknown>) => {
    const res = await call<{ requestId: string }>(server, '/api/v1/launch', who.authorization, { body: { clusterName, task } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.requestId;
  };
  const done = async (who: Account, id: string) => (await call<ApiRequest>(server, `/api/requests/${id}?wait=60`, who.authorization)).body;
  const logOf = async (who: Account, id: string) => (await fetch(`${server.url}/api/stream?request_id=${id}&follow=0&format=plain`, { headers: { authorization: who.authorization } })).text();
  const sandboxOf = async (who: Account, id: string) => /Local sandbox for cluster \S+: (\S+)/.exec(await logOf(who, id))?.[1];

  it("a user's job reads neither users.json, state.json, the data dir nor another user's workdir, and its log streams", async () => {
    const carols = await launch(carol, 'carols', { run: 'echo carol-private > notes.txt; echo "uid $(id -u)"' });
    assert.equal((await done(carol, carols)).status, 'SUCCEEDED');
    const carolSandbox = (await sandboxOf(carol, carols))!;
    assert.ok(carolSandbox, 'the launch log names the sandbox');
    const carolUid = /uid (\d+)/.exec(await logOf(carol, carols))![1];
    const usersBefore = readFileSync(path.join(server.dataDir, 'users.json'), 'utf8');

    const data = server.dataDir;
    const attempts = [
      ['users.json', `cat ${data}/users.json`],
      ['state.json', `cat ${data}/state.json`],
      ['tokens', `cat ${data}/local-token ${data}/tokens.json`],
      ['data-dir', `ls ${data}`],
      ['request-logs', `ls ${data}/logs`],
      ['rewrite-users', `sed -i 's/"role":"user"/"role":"admin"/' ${data}/users.json`],
      ['carol-notes', `cat ${carolSandbox}/workdir/notes.txt`],
      ['carol-sandbox', `ls ${carolSandbox}`],
      ['carol-write', `echo bob > ${carolSandbox}/workdir/bob.txt`],
    ];
    const probe = attempts.map(([name, cmd]) => `if ${cmd} >/dev/null 2>&1; then echo "LEAK ${name}"; else echo "DENIED ${name}"; fi`).join('\n');
    const bobs = await launch(bob, 'bobs', { run: `${probe}\necho "uid $(id -u)"\necho first-line\nsleep 2\necho last-line` });

    // The log streams while the job runs: the first line arrives before the job has ended.
    const stream = await fetch(`${server.url}/api/stream?request_id=${bobs}&format=plain`, { headers: { authorization: bob.authorization } });
    let text = '';
    let statusAtFirstLine: string | undefined;
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString('utf8');
      if (statusAtFirstLine === undefined && text.includes('first-line')) statusAtFirstLine = (await call<ApiRequest>(server, `/api/requests/${bobs}`, bob.authorization)).body.status;
      if (text.includes('last-line')) break;
    }
    assert.equal(statusAtFirstLine, 'RUNNING', 'the first line was streamed while the job ran');
    assert.equal((await done(bob, bobs)).status, 'SUCCEEDED');
    const log = await logOf(bob, bobs);
    for (const [name] of attempts) assert.match(log, new RegExp(`^DENIED ${name}$`, 'm'), `${name}: ${log}`);
    assert.doesNotMatch(log, /LEAK/);
    const bobUid = /^uid (\d+)$/m.exec(log)![1];
    assert.notEqual(bobUid, String(process.getuid!()), "not the server's uid");
    assert.notEqual(bobUid, carolUid, "not the uid of carol's cluster");
    assert.equal(readFileSync(path.join(server.dataDir, 'users.json'), 'utf8'), usersBefore);
    const bobSandbox = (await sandboxOf(bob, bobs))!;
    assert.equal(statSync(bobSandbox).uid, Number(bobUid), 'the sandbox is owned by the job uid');
    assert.equal(statSync(bobSandbox).mode & 0o777, 0o700);
    assert.equal(statSync(server.dataDir).mode & 0o777, 0o700, 'the data dir stays 0700');
  });

  it('an upload and its secrets reach the job, and the scripts holding the secrets are gone when it ends', async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), 'skydeck-iso-project-'));
    try {
      writeFileSync(path.join(project, 'hello.txt'), 'hello from the upload\n');
      const sent = await fetch(`${server.url}/api/uploads`, { method: 'POST', headers: { authorization: bob.authorization, 'content-type': 'application/gzip' }, body: new Uint8Array(bundleDirectory(project)) });
      const { uploadId } = (await sent.json()) as { uploadId: string };
      const id = await launch(bob, 'bobs-files', {
        workdir: `upload://${uploadId}`,
        file_mounts: { '~/data/hello.txt': `upload://${uploadId}/hello.txt` },
        secrets: { TOKEN: 'sekrit-iso' },
        run: 'cat hello.txt; cat ~/data/hello.txt; echo "token ${#TOKEN}"; touch ~/made-in-home "$TMPDIR/made-in-tmp" && echo wrote-home',
      });
      const request = await done(bob, id);
      const log = await logOf(bob, id);
      assert.equal(request.status, 'SUCCEEDED', log);
      assert.equal(log.split('\n').filter((l) => l === 'hello from the upload').length, 2, log);
      assert.match(log, /^token 10$/m);
      assert.match(log, /^wrote-home$/m);
      const sandbox = (await sandboxOf(bob, id))!;
      await eventually(() => !/run\.sh/.test(readdirNames(path.join(sandbox, 'jobs', '1'))), 5000, 'run.sh removed');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('a terminal on the cluster runs as its uid too', async () => {
    const client = new ApiClient({ endpoint: { url: server.url, authorization: bob.authorization, local: false, source: 'override' }, user: { id: 'b0b00000', name: 'bob' }, agent: 'isolation-test' });
    const session = new TerminalSession(client, { cluster: 'bobs', command: `id -u; cat ${server.dataDir}/users.json || echo DENIED` });
    let output = '';
    session.onData((d) => (output += d.toString('utf8')));
    const end = await new Promise<TerminalEnd>((resolve) => session.onEnd(resolve));
    client.close();
    const bobSandboxUid = statSync(path.join(path.dirname(server.dataDir), 'job-sandboxes', 'bobs')).uid;
    assert.match(output, new RegExp(`^${bobSandboxUid}\\r?$`, 'm'), `${JSON.stringify(end)} ${output}`);
    assert.match(output, /DENIED/);
    assert.doesNotMatch(output, /scrypt|"role"/);
  });

  it('down stops every process of the cluster, even one that left the job session, and removes its sandbox', async () => {
    const marker = `iso-escapee-${process.pid}-${Date.now()}`;
    const id = await launch(bob, 'bobs-escape', { run: `setsid bash -c 'exec -a ${marker} sleep 600' < /dev/null > /dev/null 2>&1 & echo started; sleep 600` });
    try {
      await eventually(async () => (await logOf(bob, id)).includes('started') && processesWith(marker).length > 0, 20_000, 'the job and its escapee');
      const sandbox = (await sandboxOf(bob, id))!;
      const down = await call<{ requestId: string }>(server, '/api/v1/down', bob.authorization, { body: { clusterName: 'bobs-escape' } });
      assert.equal((await done(bob, down.body.requestId)).status, 'SUCCEEDED');
      await eventually(() => processesWith(marker).length === 0, 5000, 'the escapee to be stopped');
      assert.throws(() => statSync(sandbox), /ENOENT/);
    } finally {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});

// Without the capabilities to switch uids: test/security/non-root-server.test.ts.
describe('a team server with --team-local-infra that cannot isolate jobs', { skip: !asRoot && 'needs root' }, () => {
  it('refuses a sandbox folder jobs cannot reach, naming the folder to fix', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-iso-'));
    try {
      admin(path.join(home, 'server'), ['users', 'add', 'alice', '--password-stdin'], 'alice-password\n');
      const hidden = path.join(home, 'sandboxes'); // home is 0700: no job could enter
      const r = spawnSync(process.execPath, [path.join(__dirname, '../../dist/server.js'), '--port', '0', '--data-dir', path.join(home, 'server'), '--team-local-infra', '--job-sandboxes', hidden], { encoding: 'utf8', env: { ...process.env, SKYDECK_HOME: home } });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`jobs cannot reach it, ${home.replace(/[/.]/g, '\\$&')} is not searchable by other users`));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

function readdirNames(dir: string): string {
  try {
    return readdirSync(dir).join(' ');
  } catch {
    return '';
  }
}
