// Behind a reverse proxy every client has the proxy's address. With --trusted-proxy the login throttle
// counts per client the proxy names in X-Forwarded-For, so one guesser no longer locks an account for
// everyone behind it; the header is believed from that proxy only, so nobody can pick their own address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../helpers/server';
import { basic, call, startTeamServer } from './helpers';

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
