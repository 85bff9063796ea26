// Behind a reverse proxy every client has the proxy's address. With --trusted-proxy the login throttle
// and the connection caps count per client the proxy names in X-Forwarded-For, so one guesser or one
// flood no longer locks out everyone behind it; the header is believed from that proxy only, so nobody
// can pick their own address.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { eventually, type TestServer } from '../helpers/server';
import { basic, call, startTeamServer, upgrade, type Account } from './helpers';

const guess = (server: TestServer, forwardedFor: string) => call(server, '/api/requests', basic('alice', 'not-her-password'), { headers: { 'x-forwarded-for': forwardedFor } });
const alice = (server: TestServer, forwardedFor: string) => call(server, '/api/requests', basic('alice', 'alice-password'), { headers: { 'x-forwarded-for': forwardedFor } });

describe('a team server behind a trusted proxy (--trusted-proxy 127.0.0.1)', () => {
  let server: TestServer;
  before(async () => {
    ({ server } = await startTeamServer([{ name: 'alice', role: 'user' }], ['--trusted-proxy', '127.0.0.1'], false));
  });
  after(() => server.dispose());

  it("throttles the guessing client, not alice at her own address behind the same proxy", async () => {
    for (let i = 0; i < 6; i++) await guess(server, '203.0.113.5');
    const held = await guess(server, '203.0.113.5');
    assert.equal(held.status, 429);
    assert.match(held.body.error!.message, /from 203\.0\.113\.5/);
    // Claiming other addresses to the left of the proxy's own entry changes nothing.
    assert.equal((await guess(server, '198.51.100.1, 203.0.113.5')).status, 429);
    // alice, never logged in to this server process yet, from her own address behind the proxy.
    assert.equal((await alice(server, '198.51.100.7')).status, 200);
  });
});

describe('a team server with no trusted proxy', () => {
  let server: TestServer;
  before(async () => {
    ({ server } = await startTeamServer([{ name: 'alice', role: 'user' }], [], false));
  });
  after(() => server.dispose());

  it('ignores X-Forwarded-For: a guesser rotating it is throttled at its real address', async () => {
    for (let i = 0; i < 6; i++) await guess(server, `203.0.113.${i + 1}`);
    const held = await guess(server, '203.0.113.99');
    assert.equal(held.status, 429);
    assert.match(held.body.error!.message, /from 127\.0\.0\.1/);
  });

  it('refuses a --trusted-proxy that is not an address', async () => {
    await assert.rejects(startTeamServer([{ name: 'bob', role: 'user' }], ['--trusted-proxy', 'proxy.example.com'], false), /--trusted-proxy: expected the proxy's IP address/);
  });
});

// The connection caps behind the proxy: one client flooding to its cap (requests in flight, WebSockets)
// leaves the others their share; the proxy's own address is not one client, a global cap bounds the
// total; and a peer that is not the proxy cannot escape its cap by naming other clients.
describe('connection caps behind a trusted proxy', () => {
  let server: TestServer;
  let proxy: Proxy;
  let alice: Account;
  let bob: Account;
  const open: { close(): void }[] = [];
  /** Opens /api/ws as `who` from `from`: 'open' (kept in `open`), or the status of the refusal. */
  const webSocket = (url: string, from: string, who: Account, headers: Record<string, string> = {}) => upgrade(url, { authorization: who.authorization, ...headers }, open, from);
  before(async () => {
    const team = await startTeamServer(
      [
        { name: 'alice', role: 'user' },
        { name: 'bob', role: 'user' },
      ],
      ['--trusted-proxy', '127.0.0.1', '--max-connections-per-client', '20', '--max-websockets-per-client', '5', '--max-connections', '60'],
      false,
    );
    ({ server } = team);
    ({ alice, bob } = team.accounts);
    proxy = await startProxy(server.url);
    // Logged in once, their passwords are not hashed again on every call of the floods.
    for (const who of [alice, bob]) assert.equal(await quick(server.url, '127.0.0.1', who), 200);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    // Every place is given back before the next test counts again.
    await eventually(async () => (await quick(server.url, '127.0.0.1', alice)) === 200, 10_000, 'the caps to free the places of closed connections');
  });
  after(async () => {
    proxy?.close();
    await server?.dispose();
  });

  it("one client holding its 20 requests in flight through the proxy gets 429, and bob behind the same proxy is served", async () => {
    for (let i = 0; i < 20; i++) open.push(await stalledPost(proxy.url, '127.0.0.2', alice));
    const refused = await eventually(async () => {
      const status = await quick(proxy.url, '127.0.0.2', alice);
      return status === 200 ? undefined : status;
    }, 10_000, "alice's 21st request to be refused");
    assert.equal(refused, 429, 'refused by the per-client cap, not by the proxy failing to connect');
    assert.equal(await quick(proxy.url, '127.0.0.3', bob), 200, 'bob, behind the same proxy, is served');
    assert.equal(await quick(proxy.url, '127.0.0.4', alice), 200, 'and so is alice from another machine');
  });

  it('one client holding its 5 WebSockets through the proxy is refused a 6th, and bob behind the same proxy opens his', async () => {
    for (let i = 0; i < 5; i++) assert.equal(await webSocket(proxy.url, '127.0.0.2', alice), 'open');
    assert.equal(await webSocket(proxy.url, '127.0.0.2', alice), 429);
    assert.equal(await webSocket(proxy.url, '127.0.0.3', bob), 'open');
  });

  it("does not cap the proxy's own address as one client, and still caps the server's total", async () => {
    // 40 clients behind the proxy, one stalled request each: twice the per-client cap, all held.
    const held = await Promise.all(Array.from({ length: 40 }, (_, i) => stalledPost(proxy.url, `127.0.1.${i + 1}`, alice)));
    open.push(...held);
    // All 40 have reached the server's accept queue before anything else does (it takes them in order).
    await eventually(() => proxy.upstreams() >= 40, 10_000, 'the proxy to connect every stalled request upstream');
    await eventually(async () => (await quick(proxy.url, '127.0.2.1', bob)) === 200, 10_000, 'a 41st client to be served');
    // The global cap (--max-connections 60) drops what goes past the server's total, from the proxy too.
    const idle = await idleSockets(server.url, '127.0.0.1', 60);
    open.push(...idle.sockets);
    await eventually(() => idle.dropped() >= 38, 10_000, 'the server to drop the connections past its total');
    assert.ok(idle.dropped() <= 41, `${idle.dropped()} of 60 dropped: the server holds more than its total`);
  });

  it('counts an IPv6 client behind the proxy by its /64: rotating addresses within it escapes no cap', async () => {
    // The test is the proxy here (127.0.0.1, trusted), naming clients that loopback cannot have.
    const rotated = (i: number) => ({ 'x-forwarded-for': `2001:db8:1:2::${(i + 1).toString(16)}` });
    for (let i = 0; i < 20; i++) open.push(await stalledPost(server.url, '127.0.0.1', alice, rotated(i)));
    const refused = await eventually(async () => {
      const status = await quick(server.url, '127.0.0.1', alice, rotated(20));
      return status === 200 ? undefined : status;
    }, 10_000, 'a 21st address of the same /64 to be refused');
    assert.equal(refused, 429);
    assert.equal(await quick(server.url, '127.0.0.1', bob, { 'x-forwarded-for': '2001:db8:1:3::1' }), 200, 'another /64 is another client');
    for (let i = 0; i < 5; i++) assert.equal(await webSocket(server.url, '127.0.0.1', alice, rotated(100 + i)), 'open');
    assert.equal(await webSocket(server.url, '127.0.0.1', alice, rotated(200)), 429);
  });

  it('a peer that is not the trusted proxy is capped at its own address, whatever X-Forwarded-For it sends', async () => {
    const spoofed = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i}` });
    // Connections: 20, then the next is dropped before a byte is read.
    for (let i = 0; i < 20; i++) open.push(await stalledPost(server.url, '127.0.0.5', alice, spoofed(i)));
    await eventually(async () => (await quick(server.url, '127.0.0.5', alice, spoofed(99))) === 0, 10_000, 'the 21st connection to be dropped');
    // WebSockets: 5 (connections are all held: close them first), then 429 naming the real address.
    for (const c of open.splice(0)) c.close();
    await eventually(async () => (await quick(server.url, '127.0.0.5', alice)) === 200, 10_000, 'the places to be given back');
    for (let i = 0; i < 5; i++) assert.equal(await webSocket(server.url, '127.0.0.5', alice, spoofed(i)), 'open');
    assert.equal(await webSocket(server.url, '127.0.0.5', alice, spoofed(50)), 429);
  });
});

interface Proxy {
  url: string;
  /** Upstream connections open now. */
  upstreams(): number;
  close(): void;
}

/**
 * A reverse proxy on 127.0.0.1 set up as docs/deploy.md sets nginx up: it appends the address its client
 * came from to X-Forwarded-For, opens one upstream connection per request, passes WebSocket upgrades.
 */
async function startProxy(upstream: string): Promise<Proxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  let upstreams = 0;
  const countUpstream = (s: Socket) =>
    s.once('connect', () => {
      upstreams++;
      s.once('close', () => upstreams--);
    });
  const forwardedFor = (req: http.IncomingMessage) => [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
  const proxy = http.createServer((req, res) => {
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwardedFor(req) }, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.once('socket', countUpstream);
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.once('close', () => up.destroy());
    up.flushHeaders();
    req.pipe(up);
  });
  proxy.on('connection', track);
  proxy.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const up = net.connect(Number(target.port), target.hostname, () => {
      const headers = { ...req.headers, 'x-forwarded-for': forwardedFor(req) };
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    track(up);
    countUpstream(up);
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    for (const s of [up, socket]) s.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    upstreams: () => upstreams,
    close() {
      for (const s of sockets) s.destroy();
      proxy.close();
    },
  };
}

const target = (url: string) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });

/** GET /api/requests from `from`: the status, or 0 when the connection was dropped. */
function quick(url: string, from: string, who: Account, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ ...target(url), localAddress: from, path: '/api/requests', headers: { authorization: who.authorization, ...headers }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A POST whose body never comes: a request in flight until closed. Resolves once it is sent. */
function stalledPost(url: string, from: string, who: Account, headers: Record<string, string> = {}): Promise<{ close(): void }> {
  return new Promise((resolve) => {
    const req = http.request({ ...target(url), localAddress: from, method: 'POST', path: '/api/v1/status', headers: { authorization: who.authorization, 'content-type': 'application/json', 'content-length': '100', ...headers }, agent: false });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    req.flushHeaders();
    req.once('socket', (s) => s.once('connect', () => resolve({ close: () => req.destroy() })));
  });
}

/** `n` TCP connections from `from` that send nothing; counts those the server drops. */
async function idleSockets(url: string, from: string, n: number): Promise<{ sockets: { close(): void }[]; dropped: () => number }> {
  let dropped = 0;
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<Socket>((resolve) => {
      const s = net.connect({ ...target(url), localAddress: from }, () => resolve(s));
      s.on('error', () => resolve(s));
      s.once('close', () => dropped++);
    })),
  );
  return { sockets: sockets.map((s) => ({ close: () => s.destroy() })), dropped: () => dropped };
}
