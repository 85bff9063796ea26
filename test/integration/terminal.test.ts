// Terminals on cluster nodes through the real server (`/api/terminal`) and `skydeck ssh`, on local infra:
// a PTY in the cluster's workdir with its SKYPILOT_* variables, resizes, Ctrl+C, exit codes, hang-up on
// close, shells ended by teardown, backpressure, and who may open one.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../../client/api-client';
import { TerminalSession, type TerminalEnd } from '../../client/terminal';
import { disposeWithWork, runCli } from '../helpers/cli';
import { ALICE, eventually, processAlive, startServer, type TestServer } from '../helpers/server';
import { call, startTeamServer } from '../security/helpers';

function clientOf(server: TestServer, user = ALICE, authorization = server.headers(user).authorization): ApiClient {
  return new ApiClient({ endpoint: { url: server.url, authorization, local: true, source: 'override' }, user, agent: 'terminal-test' });
}

/** A session and everything it printed; `until` waits for the output to match. */
function open(client: ApiClient, options: ConstructorParameters<typeof TerminalSession>[1]) {
  const session = new TerminalSession(client, options);
  let output = '';
  session.onData((d) => (output += d.toString('utf8')));
  const ended = new Promise<TerminalEnd>((resolve) => session.onEnd(resolve));
  return {
    session,
    ended,
    output: () => output,
    until: (pattern: RegExp, timeoutMs = 10_000) => eventually(() => pattern.test(output), timeoutMs, `terminal output matching ${pattern}; got ${JSON.stringify(output.slice(-400))}`),
  };
}

describe('terminal on a local cluster', () => {
  const shellHome = mkdtempSync(path.join(os.tmpdir(), 'skydeck-shell-home-'));
  let server: TestServer;
  let client: ApiClient;
  before(async () => {
    // A login shell reads its HOME's profile: not the tester's (pyenv and the like took seconds to start
    // a shell on a loaded machine), so that what the tests wait for does not depend on the machine.
    server = await startServer({ env: { HOME: shellHome } });
    client = clientOf(server);
    const launched = await server.waitFor(await server.submit('launch', { clusterName: 'term1', task: { run: 'echo ready' } }), 60);
    assert.equal(launched.status, 'SUCCEEDED', JSON.stringify(launched.error));
  });
  after(async () => {
    await disposeWithWork(server);
    rmSync(shellHome, { recursive: true, force: true });
  });

  it("starts in the cluster's workdir with SKYPILOT_NUM_NODES, NODE_RANK and NODE_IPS, and ends with the shell's exit code", async () => {
    const t = open(client, { cluster: 'term1', tty: { cols: 100, rows: 30 } });
    t.session.write('echo "N=$SKYPILOT_NUM_NODES R=$SKYPILOT_NODE_RANK IPS=$SKYPILOT_NODE_IPS"; pwd; tty; exit 3\r');
    const end = await t.ended;
    assert.equal(end.exitCode, 3, `${JSON.stringify(end)} ${t.output()}`);
    assert.match(t.output(), /N=1 R=0 IPS=127\.0\.0\.1/);
    assert.match(t.output(), new RegExp(`${path.join(server.dataDir, 'clusters', 'term1', 'workdir').replace(/\//g, '\\/')}\\r?\\n`));
    assert.match(t.output(), /\/dev\/pts\/\d+/);
  });

  it('resizes reach the PTY and Ctrl+C interrupts the running command, not the shell', async () => {
    const t = open(client, { cluster: 'term1', tty: { cols: 100, rows: 30 } });
    t.session.write('stty size\r');
    await t.until(/30 100/);
    t.session.resize(120, 40);
    t.session.write('stty size\r');
    await t.until(/40 120/);
    t.session.write('sleep 30; echo not-interrupted\r');
    await new Promise((r) => setTimeout(r, 500));
    t.session.write('\x03');
    t.session.write('echo after-$((6*7))\r');
    await t.until(/after-42/, 5000);
    assert.doesNotMatch(t.output(), /\nnot-interrupted/);
    t.session.write('exit\r');
    assert.equal((await t.ended).exitCode, 0);
  });

  it('a closed terminal hangs up its shell', async () => {
    const t = open(client, { cluster: 'term1', tty: { cols: 80, rows: 24 } });
    t.session.write('echo "pid=$$"\r');
    await t.until(/pid=\d+/);
    const pid = Number(/pid=(\d+)/.exec(t.output())![1]);
    assert.ok(processAlive(pid));
    t.session.dispose();
    await eventually(() => !processAlive(pid), 5000, `shell ${pid} to end`);
  });

  it('a closed terminal ends a shell that ignores SIGHUP, as closing a real terminal does', async () => {
    const t = open(client, { cluster: 'term1', tty: { cols: 80, rows: 24 } });
    t.session.write(`trap '' HUP; echo "pid=$$"\r`);
    await t.until(/pid=\d+/);
    const pid = Number(/pid=(\d+)/.exec(t.output())![1]);
    t.session.dispose();
    try {
      await eventually(() => !processAlive(pid), 5000, `shell ${pid} to end`);
    } finally {
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a client that stops reading pauses the shell instead of filling the server with its output', async () => {
    const marker = path.join(server.dataDir, 'clusters', 'term1', 'workdir', 'flood-done');
    const session = new TerminalSession(client, { cluster: 'term1', command: `head -c 100000000 /dev/zero; touch ${marker}` });
    const ended = new Promise<TerminalEnd>((resolve) => session.onEnd(resolve));
    let received = 0;
    session.onData((d) => (received += d.length));
    session.pause();
    await new Promise((r) => setTimeout(r, 2500));
    // 100 MB at loopback speed takes well under a second when nothing holds it back.
    assert.equal(existsSync(marker), false, `the command ran to its end while its client read nothing (${received} bytes received)`);
    assert.ok(received < 50_000_000, `received ${received} bytes while paused`);
    session.resume();
    const end = await ended;
    assert.equal(end.exitCode, 0, JSON.stringify(end));
    assert.ok(existsSync(marker));
    assert.equal(received, 100_000_000);
  });

  it('skydeck ssh -- COMMAND prints its output (stdin piped in) and exits with its exit code', async () => {
    const run = await runCli(server, ['ssh', 'term1', '--', 'echo out-$SKYPILOT_NUM_NODES; cat; exit 7'], { input: 'piped-in\n' });
    assert.equal(run.code, 7, run.stderr);
    assert.equal(run.stdout, 'out-1\npiped-in\n');
  });

  it('skydeck ssh refuses an unknown cluster and a node the cluster does not have, saying why', async () => {
    const missing = await runCli(server, ['ssh', 'nosuch', '--', 'true']);
    assert.equal(missing.code, 255);
    assert.match(missing.stderr, /^Error: cluster nosuch does not exist/m);
    const node = await runCli(server, ['ssh', 'term1', '--node', '3', '--', 'true']);
    assert.equal(node.code, 255);
    assert.match(node.stderr, /cluster term1 has 1 node\(s\).*no node 3/);
  });

  it('tearing the cluster down ends its open terminals', async () => {
    const launched = await server.waitFor(await server.submit('launch', { clusterName: 'term2', task: { run: 'true' } }), 60);
    assert.equal(launched.status, 'SUCCEEDED');
    const t = open(client, { cluster: 'term2', tty: { cols: 80, rows: 24 } });
    t.session.write('echo "pid=$$"\r');
    await t.until(/pid=\d+/);
    const pid = Number(/pid=(\d+)/.exec(t.output())![1]);
    await server.waitFor(await server.submit('down', { clusterName: 'term2' }));
    const end = await t.ended;
    assert.match(end.error?.message ?? '', /cluster term2 was torn down/);
    await eventually(() => !processAlive(pid), 5000, `shell ${pid} to end`);
  });
});

describe('terminal on a team server', () => {
  let team: Awaited<ReturnType<typeof startTeamServer>>;
  before(async () => {
    team = await startTeamServer([
      { name: 'alice', role: 'user' },
      { name: 'bob', role: 'user' },
      { name: 'root', role: 'admin' },
    ]);
    const launched = await call<{ requestId: string }>(team.server, '/api/v1/launch', team.accounts.alice!.authorization, { body: { clusterName: 'alices', task: { run: 'true' } } });
    const done = await call<{ status: string }>(team.server, `/api/requests/${launched.body.requestId}?wait=60`, team.accounts.alice!.authorization);
    assert.equal(done.body.status, 'SUCCEEDED');
  });
  after(async () => {
    await call(team.server, '/api/v1/down', team.accounts.root!.authorization, { body: { clusterName: 'alices' } });
    await eventually(async () => (await call<{ clusters: unknown[] }>(team.server, '/api/clusters', team.accounts.root!.authorization)).body.clusters.length === 0, 20_000, 'teardown');
    await team.server.dispose();
  });

  const as = (name: string) => clientOf(team.server, { id: '00000000', name }, team.accounts[name]!.authorization);

  it("only the cluster's owner and admins may open a terminal on it", async () => {
    const bob = open(as('bob'), { cluster: 'alices', command: 'echo bob-was-here' });
    const refused = await bob.ended;
    assert.equal(refused.error?.code, '403');
    assert.match(refused.error!.message, /cluster alices belongs to alice.*only they or an admin may open a terminal on it/);
    assert.doesNotMatch(bob.output(), /bob-was-here/);
    for (const name of ['alice', 'root']) {
      const t = open(as(name), { cluster: 'alices', command: 'echo "$SKYPILOT_NUM_NODES-nodes"' });
      assert.equal((await t.ended).exitCode, 0);
      assert.equal(t.output(), '1-nodes\n');
    }
  });

  it('a terminal without credentials is refused before any shell starts', async () => {
    const t = open(clientOf(team.server, ALICE, undefined), { cluster: 'alices', command: 'true' });
    assert.equal((await t.ended).error?.code, '401');
  });
});
