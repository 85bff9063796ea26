// Port forwards through a real team server (`/api/forward`) on loopback, with the client library's local
// listener and `skydeck port-forward`: a task's HTTP server answers through the forward, a large file
// arrives intact, a reader that stops reading stalls the endpoint instead of filling the server, another
// user and an undeclared port are refused with the reason, and tearing the cluster down ends the forward.
// And once through the owner's local server, which the CLI reaches over its Unix socket.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../../client/api-client';
import { PortForward, type ForwardProblem } from '../../client/forward';
import { disposeWithWork, freePort, spawnCli, type CliProcess } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { call, startTeamServer } from '../security/helpers';

/** The task: a static file server (index.html, an 8 MiB file and its digest) and an endless writer that counts what it wrote. */
const runScript = (web: number, flood: number) => `
echo "served through the forward" > index.html
head -c 8388608 /dev/urandom > big.bin
sha256sum big.bin | cut -d' ' -f1 > big.sha
cat > flood.py <<'EOF'
import http.server, sys
sent = 0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global sent
        if self.path == '/count':
            body = str(sent).encode()
            self.send_response(200)
            self.send_header('content-length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.end_headers()
        chunk = b'x' * 65536
        while True:
            self.wfile.write(chunk)
            sent += len(chunk)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
EOF
python3 flood.py ${flood} &
exec python3 -m http.server ${web} --bind 127.0.0.1
`;

describe('port forward through a team server', () => {
  let team: Awaited<ReturnType<typeof startTeamServer<'alice' | 'bob' | 'root'>>>;
  let web: number;
  let flood: number;
  const forwards: PortForward[] = [];
  const clis: CliProcess[] = [];

  const as = (name: 'alice' | 'bob' | 'root', server: TestServer = team.server) =>
    new ApiClient({ endpoint: { url: server.url, authorization: team.accounts[name].authorization, local: false, source: 'override' }, user: { id: '00000000', name }, agent: 'port-forward-test' });
  const open = async (name: 'alice' | 'bob' | 'root', cluster: string, port: number) => {
    const forward = await PortForward.open(as(name), { cluster, port });
    forwards.push(forward);
    return forward;
  };
  const launch = async (cluster: string, task: unknown) => {
    const launched = await call<{ requestId: string }>(team.server, '/api/v1/launch', team.accounts.alice.authorization, { body: { clusterName: cluster, task, detachRun: true } });
    assert.equal(launched.status, 202, JSON.stringify(launched.body));
    // Detached: the launch is done once the job runs; the servers come up right after.
    const done = await call<{ status: string; error?: unknown }>(team.server, `/api/requests/${launched.body.requestId}?wait=90`, team.accounts.alice.authorization);
    assert.equal(done.body.status, 'SUCCEEDED', JSON.stringify(done.body));
  };
  const down = async (cluster: string) => {
    const r = await call<{ requestId: string }>(team.server, '/api/v1/down', team.accounts.root.authorization, { body: { clusterName: cluster } });
    await call(team.server, `/api/requests/${r.body.requestId}?wait=60`, team.accounts.root.authorization);
  };

  before(async () => {
    team = await startTeamServer([
      { name: 'alice', role: 'user' },
      { name: 'bob', role: 'user' },
      { name: 'root', role: 'admin' },
    ]);
    web = await freePort();
    flood = await freePort();
    await launch('web', { resources: { ports: [web, flood] }, run: runScript(web, flood) });
  });
  after(async () => {
    for (const f of forwards) f.dispose();
    for (const c of clis) c.dispose();
    try {
      const { body } = await call<{ clusters: { name: string }[] }>(team.server, '/api/clusters', team.accounts.root.authorization);
      for (const c of body.clusters) await down(c.name);
    } finally {
      await team.server.dispose();
    }
  });

  it("answers with the task's HTTP server on a local port, and a large file arrives intact", async () => {
    const forward = await open('alice', 'web', web);
    assert.match(forward.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(forward.localPort, web);
    // The server may still be starting: a refused connection to the endpoint resets ours, and we try again.
    const index = await eventually(async () => {
      const res = await fetch(`${forward.url}/index.html`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 20_000, 'the task HTTP server to answer through the forward');
    assert.equal(index, 'served through the forward\n');
    const digest = (await (await fetch(`${forward.url}/big.sha`)).text()).trim();
    const big = Buffer.from(await (await fetch(`${forward.url}/big.bin`)).arrayBuffer());
    assert.equal(big.length, 8 * 1024 * 1024);
    assert.equal(createHash('sha256').update(big).digest('hex'), digest);
    // Several connections at once, as a browser opens them.
    const bodies = await Promise.all(Array.from({ length: 6 }, () => fetch(`${forward.url}/index.html`).then((r) => r.text())));
    assert.deepEqual(new Set(bodies), new Set(['served through the forward\n']));
    await eventually(() => forward.count === 0, 5000, 'the finished connections to close');
    assert.equal(team.server.output().match(/error/i), null, team.server.output());
  });

  it('a client that stops reading stalls the endpoint instead of filling the server', async () => {
    const forward = await open('alice', 'web', flood);
    const count = async () => Number(await eventually(async () => (await fetch(`${forward.url}/count`).catch(() => undefined))?.text(), 20_000, 'the flood server to answer'));
    await count();
    const reader = net.connect(forward.localPort, '127.0.0.1');
    let received = 0;
    reader.on('data', (d) => (received += d.length));
    await new Promise<void>((resolve) => reader.once('connect', () => resolve()));
    reader.write('GET /flood HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => received > 0, 10_000, 'the flood to start');
    reader.pause();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const first = await count();
      await new Promise((r) => setTimeout(r, 1000));
      const second = await count();
      // Loopback moves gigabytes in these seconds when nothing holds the writer back; what is in flight is
      // the kernels' socket buffers and each side's high-water mark.
      assert.ok(first < 64 * 1024 * 1024, `the endpoint wrote ${first} bytes to a reader that stopped reading`);
      assert.ok(second - first <= 1024 * 1024, `the endpoint kept writing (${first} then ${second} bytes) while its reader read nothing`);
      reader.resume();
      await eventually(() => received > first, 10_000, 'the stalled bytes to arrive once the reader reads again');
    } finally {
      reader.destroy();
    }
  });

  it("refuses another user, naming the owner, and lets an admin forward the owner's port", async () => {
    await assert.rejects(open('bob', 'web', web), (err: Error) => {
      assert.match(err.message, /cluster web belongs to alice.*only they or an admin may forward a port of it \(you are bob/);
      return true;
    });
    const admin = await open('root', 'web', web);
    assert.equal(await (await fetch(`${admin.url}/index.html`)).text(), 'served through the forward\n');
  });

  it('refuses a port the cluster did not declare, an unknown cluster, and no credentials, saying why', async () => {
    const undeclared = await freePort();
    await assert.rejects(open('alice', 'web', undeclared), new RegExp(`port ${undeclared} is not one cluster web declared \\(resources.ports: ${[web, flood].sort((a, b) => a - b).join(', ')}\\)`));
    await assert.rejects(open('alice', 'nosuch', web), /cluster nosuch does not exist/);
    const anonymous = new ApiClient({ endpoint: { url: team.server.url, local: false, source: 'override' }, user: { id: '00000000', name: 'x' }, agent: 'port-forward-test' });
    await assert.rejects(PortForward.open(anonymous, { cluster: 'web', port: web }), (err: Error & { code?: string }) => err.code === 'http_401');
  });

  it('down ends open forwarded connections, the next is refused and ends the forward; skydeck port-forward prints its URL and ends at down', { timeout: 60_000 }, async () => {
    const endpoint = new URL(team.server.url);
    endpoint.username = 'alice';
    endpoint.password = team.accounts.alice.password;
    const cli = spawnCli({ home: team.server.home, url: endpoint.toString() }, ['port-forward', 'web', String(web)]);
    clis.push(cli);
    await cli.waitForOutput(/^Forwarding (http:\/\/127\.0\.0\.1:\d+) to port \d+ of cluster web/m);
    const url = /^Forwarding (\S+)/m.exec(cli.stdout())![1]!;
    assert.equal(await (await fetch(`${url}/index.html`)).text(), 'served through the forward\n');

    // A library forward with a connection open when the cluster goes: both end, saying why.
    const forward = await open('alice', 'web', flood);
    const ended = new Promise<ForwardProblem>((resolve) => forward.onEnd(resolve));
    await eventually(async () => (await fetch(`${forward.url}/count`).catch(() => undefined))?.ok, 20_000, 'the flood server to answer');
    const reader = net.connect(forward.localPort, '127.0.0.1');
    reader.on('error', () => {});
    let received = 0;
    reader.on('data', (d) => (received += d.length));
    reader.write('GET /flood HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => received > 0, 10_000, 'the flood to start');
    const readerClosed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    reader.resume();
    // A second connection whose reader has stopped reading (its WebSocket paused) is cut too.
    const stalled = net.connect(forward.localPort, '127.0.0.1');
    stalled.on('error', () => {});
    let stalledReceived = 0;
    stalled.on('data', (d) => (stalledReceived += d.length));
    stalled.write('GET /flood HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => stalledReceived > 0, 10_000, 'the second flood to start');
    stalled.pause();
    const stalledClosed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));

    await down('web');
    // The endpoint's process is gone: the connection that was reading ends; the stalled one gets what was
    // sent before the end once it reads again, then ends too.
    await readerClosed;
    stalled.resume();
    await stalledClosed;
    // The next connection is refused by the server (no such cluster), and that ends the forward: the
    // listener closes rather than refusing each connection in turn.
    await fetch(`${forward.url}/`).catch(() => undefined);
    const end = await ended;
    assert.match(end.message, /cluster web (was torn down|does not exist|is [A-Z]+)/);
    assert.equal(forward.isEnded, true);
    assert.equal(await fetch(`${forward.url}/`).then(() => 'answered', () => 'refused'), 'refused');

    const run = await cli.done;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^Error: cluster web was torn down; the forward ended/m);
    assert.equal(await fetch(`${url}/`).then(() => 'answered', () => 'refused'), 'refused');
  });
});

describe("port forward through the owner's local server", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => disposeWithWork(server));

  it('skydeck port-forward reaches it over its Unix socket, forwards, and stops at Ctrl+C with status 0', async () => {
    const web = await freePort();
    const done = await server.waitFor(await server.submit('launch', { clusterName: 'mine', detachRun: true, task: { resources: { ports: web }, run: `echo mine > index.html; exec python3 -m http.server ${web} --bind 127.0.0.1` } }), 60);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
    const cli = spawnCli(server, ['port-forward', 'mine', String(web), '--local-port', '0']);
    try {
      await cli.waitForOutput(/^Forwarding http:\/\/127\.0\.0\.1:\d+ /m);
      const url = /^Forwarding (\S+)/m.exec(cli.stdout())![1]!;
      const body = await eventually(async () => (await fetch(`${url}/index.html`).catch(() => undefined))?.text(), 20_000, 'the task HTTP server to answer through the forward');
      assert.equal(body, 'mine\n');
      cli.child.kill('SIGINT');
      const run = await cli.done;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await fetch(`${url}/`).then(() => 'answered', () => 'refused'), 'refused');
    } finally {
      cli.dispose();
    }
  });
});
