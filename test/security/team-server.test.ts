// A team server: every call needs credentials, identity comes from them, and a user may change only
// their own work while an admin may change anyone's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleDirectory } from '../../client/upload';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import type { ApiRequest } from '../../protocol/model';
import { eventually, type TestServer } from '../helpers/server';
import { admin, call, startTeamServer, upgrade, type Account } from './helpers';

const CLI_JS = `${__dirname}/../../dist/cli.js`;

describe('team server', () => {
  let server: TestServer;
  let alice: Account; // admin
  let bob: Account;
  let carol: Account;
  before(async () => {
    const team = await startTeamServer([
      { name: 'alice', role: 'admin' },
      { name: 'bob', role: 'user' },
      { name: 'carol', role: 'user' },
    ]);
    server = team.server;
    ({ alice, bob, carol } = team.accounts);
  });
  after(() => server.dispose());

  const submit = async (who: Account, operation: string, body: unknown) => {
    const res = await call<{ requestId: string }>(server, `/api/v1/${operation}`, who.authorization, { body });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.requestId;
  };
  const waitFor = async (who: Account, id: string) => (await call<ApiRequest>(server, `/api/requests/${id}?wait=30`, who.authorization)).body;

  it('answers 401 to calls without credentials, and health without them', async () => {
    for (const [method, pathname, body] of [
      ['GET', '/api/requests', undefined],
      ['GET', '/api/clusters', undefined],
      ['POST', '/api/v1/status', {}],
      ['POST', '/api/cancel', { all: true }],
      ['GET', '/metrics', undefined],
    ] as const) {
      const res = await call(server, pathname, undefined, { method, body });
      assert.equal(res.status, 401, `${method} ${pathname}`);
      assert.match(res.body.error!.message, /skydeck api login/);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="SkyDeck"/);
    }
    const health = await call<{ auth: string; user: { name: string } }>(server, '/api/health', undefined);
    assert.equal(health.status, 200);
    assert.equal(health.body.auth, 'basic');
    assert.equal(health.body.user.name, 'anonymous');
    // Claimed identity headers alone open nothing.
    const claimed = await call(server, '/api/requests', undefined, { headers: { 'x-skydeck-user-id': 'a11ce000', 'x-skydeck-user-name': 'alice' } });
    assert.equal(claimed.status, 401);
  });

  it('answers 401 to a wrong password and to an unknown user', async () => {
    assert.equal((await call(server, '/api/requests', `Basic ${Buffer.from('bob:nope').toString('base64')}`)).status, 401);
    assert.equal((await call(server, '/api/requests', `Basic ${Buffer.from('mallory:whatever').toString('base64')}`)).status, 401);
  });

  it('records the authenticated user and ignores the claimed one', async () => {
    const res = await call<{ requestId: string }>(server, '/api/v1/status', bob.authorization, { body: {}, headers: { 'x-skydeck-user-id': 'a11ce000', 'x-skydeck-user-name': 'alice' } });
    assert.equal(res.status, 202);
    const request = await waitFor(bob, res.body.requestId);
    assert.equal(request.user.name, 'bob');
    assert.notEqual(request.user.id, 'a11ce000');
    const health = await call<{ user: { name: string } }>(server, '/api/health', bob.authorization);
    assert.equal(health.body.user.name, 'bob');
  });

  it("refuses a user's cancel, down, stop and cancel_jobs on another user's work with 403, and lets an admin do them", async () => {
    const launch = await submit(bob, 'launch', { clusterName: 'bobs', task: { run: 'echo up; sleep 120' } });
    await eventually(async () => (await call<{ jobs: { status: string }[] }>(server, '/api/clusters/bobs/jobs', bob.authorization)).body.jobs?.[0]?.status === 'RUNNING', 15_000, 'bob job running');
    // Everyone sees everyone's work.
    const seen = await call<{ requests: { id: string }[] }>(server, '/api/requests', carol.authorization);
    assert.ok(seen.body.requests.some((r) => r.id === launch));

    const cancel = await call(server, '/api/cancel', carol.authorization, { body: { requestIds: [launch] } });
    assert.equal(cancel.status, 403);
    assert.match(cancel.body.error!.message, /belongs to bob .*only they or an admin may cancel it/);
    const cancelAll = await call(server, '/api/cancel', carol.authorization, { body: { all: true, allUsers: true } });
    assert.equal(cancelAll.status, 403);
    for (const operation of ['down', 'stop', 'start']) {
      const res = await call(server, `/api/v1/${operation}`, carol.authorization, { body: { clusterName: 'bobs' } });
      assert.equal(res.status, 403, operation);
      assert.match(res.body.error!.message, /cluster bobs belongs to bob/);
    }
    // Running code on someone else's cluster is changing it too.
    for (const operation of ['exec', 'launch']) {
      const res = await call(server, `/api/v1/${operation}`, carol.authorization, { body: { clusterName: 'bobs', task: { run: 'echo hijack' } } });
      assert.equal(res.status, 403, operation);
      assert.match(res.body.error!.message, /cluster bobs belongs to bob .*only they or an admin may run tasks on it/);
    }
    const jobs = await call(server, '/api/v1/cancel_jobs', carol.authorization, { body: { clusterName: 'bobs', jobIds: [1] } });
    assert.equal(jobs.status, 403);
    const allJobs = await call(server, '/api/v1/cancel_jobs', carol.authorization, { body: { clusterName: 'bobs', all: true } });
    assert.equal(allJobs.status, 403);
    // carol's "cancel all of mine" does not touch bob's.
    const mine = await call<{ cancelled: string[] }>(server, '/api/cancel', carol.authorization, { body: { all: true } });
    assert.deepEqual(mine.body.cancelled, []);
    assert.equal((await call<ApiRequest>(server, `/api/requests/${launch}`, carol.authorization)).body.status, 'RUNNING');

    // The admin may.
    const byAdmin = await call<{ cancelled: string[] }>(server, '/api/cancel', alice.authorization, { body: { requestIds: [launch] } });
    assert.equal(byAdmin.status, 200);
    assert.deepEqual(byAdmin.body.cancelled, [launch]);
    const down = await submit(alice, 'down', { clusterName: 'bobs' });
    assert.equal((await waitFor(alice, down)).status, 'SUCCEEDED');
  });

  it("names no server paths in a task, and no upload that someone else sent", async () => {
    // A plain path on the server's machine: its own accounts file, with every password hash.
    for (const task of [{ run: 'cat users.json', file_mounts: { 'users.json': `${server.dataDir}/users.json` } }, { run: 'ls', workdir: server.dataDir }]) {
      const res = await call<{ error: { code: string; message: string } }>(server, '/api/v1/launch', bob.authorization, { body: { clusterName: 'peek', task } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'task_invalid');
      assert.match(res.body.error.message, /path on the server's machine/);
    }
    // bob sends his project; carol sees its id in his request and tries it.
    const project = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bobs-project-'));
    try {
      writeFileSync(path.join(project, '.env'), 'BOBS_SECRET=hunter2\n');
      const sent = await fetch(`${server.url}/api/uploads`, { method: 'POST', headers: { authorization: bob.authorization, 'content-type': 'application/gzip' }, body: new Uint8Array(bundleDirectory(project)) });
      assert.equal(sent.status, 200);
      const { uploadId } = (await sent.json()) as { uploadId: string };
      const bobs = await submit(bob, 'launch', { clusterName: 'bobs-upload', task: { run: 'cat .env', workdir: `upload://${uploadId}` } });
      const seen = (await call<ApiRequest>(server, `/api/requests/${bobs}`, carol.authorization)).body;
      assert.equal((seen.body as { task: { workdir: string } }).task.workdir, `upload://${uploadId}`);
      const stolen = await call<{ error: { message: string } }>(server, '/api/v1/launch', carol.authorization, { body: { clusterName: 'carols-loot', task: { run: 'cat .env', workdir: `upload://${uploadId}` } } });
      assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
      assert.match(stolen.body.error.message, /sent by someone else/);
      // Sending the same files makes them carol's too (she has them anyway); an admin may use anyone's.
      const byAdmin = await call(server, '/api/v1/launch', alice.authorization, { body: { clusterName: 'alices-check', task: { run: 'true', workdir: `upload://${uploadId}` } } });
      assert.equal(byAdmin.status, 202);
      assert.equal((await waitFor(alice, (byAdmin.body as unknown as { requestId: string }).requestId)).status, 'SUCCEEDED');
      assert.equal((await waitFor(bob, bobs)).status, 'SUCCEEDED');
      for (const [who, name] of [[alice, 'alices-check'], [bob, 'bobs-upload']] as const) await waitFor(who, await submit(who, 'down', { clusterName: name }));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('lets a user cancel and tear down their own work', async () => {
    const launch = await submit(carol, 'launch', { clusterName: 'carols', task: { run: 'sleep 120' } });
    await eventually(async () => (await call<{ jobs: { status: string }[] }>(server, '/api/clusters/carols/jobs', carol.authorization)).body.jobs?.[0]?.status === 'RUNNING', 15_000, 'carol job running');
    const jobs = await call(server, '/api/v1/cancel_jobs', carol.authorization, { body: { clusterName: 'carols', all: true } });
    assert.equal(jobs.status, 202);
    assert.equal((await waitFor(carol, launch)).status, 'FAILED');
    const down = await submit(carol, 'down', { clusterName: 'carols' });
    assert.equal((await waitFor(carol, down)).status, 'SUCCEEDED');
  });

  it('refuses a WebSocket upgrade without credentials or with wrong ones, and accepts good ones', async () => {
    assert.equal(await upgrade(server.url), 401);
    assert.equal(await upgrade(server.url, { authorization: `Basic ${Buffer.from('bob:wrong').toString('base64')}` }), 401);
    assert.equal(await upgrade(server.url, { authorization: bob.authorization }), 'open');
  });

  it('picks up users added, re-roled and removed while it runs', async () => {
    const dave = `Basic ${Buffer.from('dave:dave-password').toString('base64')}`;
    assert.equal((await call(server, '/api/requests', dave)).status, 401);
    admin(server.dataDir, ['users', 'add', 'dave', '--password-stdin'], 'dave-password\n');
    assert.equal((await call(server, '/api/requests', dave)).status, 200);
    assert.equal((await call(server, '/api/cancel', dave, { body: { all: true, allUsers: true } })).status, 403);
    admin(server.dataDir, ['users', 'set-role', 'dave', 'admin']);
    assert.equal((await call(server, '/api/cancel', dave, { body: { all: true, allUsers: true } })).status, 200);
    // A log stream dave follows is cut once he is removed.
    const launch = await call<{ requestId: string }>(server, '/api/v1/launch', dave, { body: { clusterName: 'daves', task: { run: 'echo hi; sleep 60' } } });
    const stream = await fetch(`${server.url}/api/stream?request_id=${launch.body.requestId}&format=plain`, { headers: { authorization: dave } });
    assert.equal(stream.status, 200);
    const reading = (async () => {
      try {
        for await (const _ of stream.body as unknown as AsyncIterable<Uint8Array>) void _;
      } catch {
        // cut by the server
      }
      return Date.now();
    })();
    // Timed from when the admin command has written the file (the command itself takes a while on a busy machine).
    admin(server.dataDir, ['users', 'remove', 'dave']);
    const removedAt = Date.now();
    const cutAfter = (await reading) - removedAt;
    assert.ok(cutAfter < 2_500, `the stream ended ${cutAfter} ms after the removal`);
    assert.equal((await call(server, '/api/requests', dave)).status, 401);
    await call(server, '/api/cancel', alice.authorization, { body: { requestIds: [launch.body.requestId] } });
  });

  it('accepts a service-account token, and refuses it at once when revoked or expired', async () => {
    const token = admin(server.dataDir, ['tokens', 'create', 'ci-bot']).trim();
    assert.match(token, /^skdk_[0-9a-f]{8}_/);
    assert.ok(!readFileSync(`${server.dataDir}/tokens.json`, 'utf8').includes(token.slice('skdk_12345678_'.length)), 'the secret is not stored');
    const res = await call<{ requestId: string }>(server, '/api/v1/status', `Bearer ${token}`, { body: {} });
    assert.equal(res.status, 202);
    assert.equal((await waitFor(alice, res.body.requestId)).user.name, 'ci-bot');
    // A WebSocket opened with the token is closed once it is revoked.
    const open: WebSocket[] = [];
    assert.equal(await upgrade(server.url, { authorization: `Bearer ${token}` }, open), 'open');
    const closed = new Promise<number>((resolve) => open[0]!.once('close', () => resolve(Date.now())));
    admin(server.dataDir, ['tokens', 'revoke', 'ci-bot']);
    const revokedAt = Date.now();
    const closedAfter = (await closed) - revokedAt;
    assert.ok(closedAfter < 2_500, `the WebSocket was closed ${closedAfter} ms after the revocation`);
    const revoked = await call(server, '/api/requests', `Bearer ${token}`);
    assert.equal(revoked.status, 401);
    assert.match(revoked.body.error!.message, /unknown or revoked token/);

    const short = admin(server.dataDir, ['tokens', 'create', 'short-lived', '--expires', '1500ms']).trim();
    assert.equal((await call(server, '/api/requests', `Bearer ${short}`)).status, 200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await call(server, '/api/requests', `Bearer ${short}`);
    assert.equal(expired.status, 401);
    assert.match(expired.body.error!.message, /expired/);
  });

  it('takes credentials in the endpoint URL and from api login (saved readable by the user alone)', async () => {
    const port = new URL(server.url).port;
    const env = { ...process.env, SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: `http://bob:bob-password@127.0.0.1:${port}` };
    const info = spawnSync(process.execPath, [CLI_JS, 'api', 'info', '--json'], { env, encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).health.user.name, 'bob');

    const home = server.home + '/client';
    const loginEnv: NodeJS.ProcessEnv = { ...process.env, SKYDECK_HOME: home };
    delete loginEnv.SKYDECK_API_SERVER_ENDPOINT;
    const login = spawnSync(process.execPath, [CLI_JS, 'api', 'login', '-e', server.url, '-u', 'carol', '--password-stdin'], { env: loginEnv, input: 'carol-password\n', encoding: 'utf8' });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(statSync(`${home}/credentials.json`).mode & 0o777, 0o600);
    assert.match(readFileSync(`${home}/config.yaml`, 'utf8'), new RegExp(`endpoint: ${server.url}`));
    const who = spawnSync(process.execPath, [CLI_JS, 'api', 'info', '--json'], { env: loginEnv, encoding: 'utf8' });
    assert.equal(JSON.parse(who.stdout).health.user.name, 'carol');
    const logout = spawnSync(process.execPath, [CLI_JS, 'api', 'logout'], { env: loginEnv, encoding: 'utf8' });
    assert.equal(logout.status, 0, logout.stderr);
    assert.doesNotMatch(readFileSync(`${home}/credentials.json`, 'utf8'), /carol/);
    assert.doesNotMatch(readFileSync(`${home}/config.yaml`, 'utf8'), /endpoint/);

    const wrong = spawnSync(process.execPath, [CLI_JS, 'api', 'login', '-e', server.url, '-u', 'carol', '--password-stdin'], { env: loginEnv, input: 'nope\n', encoding: 'utf8' });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /refused the login/);
  });
});

describe('team server with one long worker', () => {
  let server: TestServer;
  let accounts: Record<'alice' | 'bob', Account>;
  before(async () => {
    ({ server, accounts } = await startTeamServer([{ name: 'alice', role: 'user' }, { name: 'bob', role: 'user' }], ['--long-workers', '1']));
  });
  after(() => server.dispose());

  it("checks a queued launch's cluster ownership when it runs: bob's cannot land on the cluster alice's launch made meanwhile", async () => {
    const { alice, bob } = accounts;
    const submit = async (who: Account, body: unknown) => (await call<{ requestId: string }>(server, '/api/v1/launch', who.authorization, { body })).body.requestId;
    // The one worker is busy, so both launches wait; at submit time the cluster does not exist yet.
    const busy = await submit(alice, { clusterName: 'busy', task: { run: 'sleep 2' } });
    const alices = await submit(alice, { clusterName: 'alices', task: { run: 'echo alice-was-here > mine.txt' } });
    const bobs = await submit(bob, { clusterName: 'alices', task: { run: 'cat mine.txt; echo bob-ran-here' } });
    const done = async (id: string) => (await call<ApiRequest>(server, `/api/requests/${id}?wait=60`, alice.authorization)).body;
    assert.equal((await done(busy)).status, 'SUCCEEDED');
    assert.equal((await done(alices)).status, 'SUCCEEDED');
    const bobsRequest = await done(bobs);
    assert.equal(bobsRequest.status, 'FAILED');
    assert.match(bobsRequest.error!.message, /cluster alices belongs to alice/);
    const jobs = (await call<{ jobs: { jobId: number }[] }>(server, '/api/clusters/alices/jobs', alice.authorization)).body.jobs;
    assert.equal(jobs.length, 1, 'only alice ran on her cluster');
    for (const name of ['busy', 'alices']) await done((await call<{ requestId: string }>(server, '/api/v1/down', alice.authorization, { body: { clusterName: name } })).body.requestId);
  });
});

describe('team server left as set up', () => {
  let server: TestServer;
  let accounts: Record<'alice' | 'bob', Account>;
  before(async () => {
    ({ server, accounts } = await startTeamServer([{ name: 'alice', role: 'admin' }, { name: 'bob', role: 'user' }], [], false));
  });
  after(() => server.dispose());

  it("runs no member's job on local infra, where it would run as the server's own OS user", async () => {
    const { alice, bob } = accounts;
    // The attack: a user's job rewrites the accounts file to make itself admin.
    const task = { run: `sed -i 's/"role":"user"/"role":"admin"/' ${server.dataDir}/users.json; echo done` };
    const submitted = await call<{ requestId: string }>(server, '/api/v1/launch', bob.authorization, { body: { clusterName: 'escalate', task } });
    assert.equal(submitted.status, 202);
    const request = (await call<ApiRequest>(server, `/api/requests/${submitted.body.requestId}?wait=30`, bob.authorization)).body;
    assert.equal(request.status, 'FAILED');
    assert.match(request.error!.message, /local infra is off on this team server/);
    assert.doesNotMatch(readFileSync(`${server.dataDir}/users.json`, 'utf8'), /"bob"[^}]*"role":"admin"/);
    const infra = (await call<{ infra: { infra: string; enabled: boolean; reason?: string }[] }>(server, '/api/infra', alice.authorization)).body.infra;
    assert.deepEqual(infra.find((i) => i.infra === 'local')?.enabled, false);
    assert.equal((await call(server, '/api/clusters/escalate/jobs', alice.authorization)).status, 404, 'no cluster was made');
  });
});
