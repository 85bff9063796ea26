// The once-a-second recheck of open WebSockets checks each distinct credential once for all the
// connections opened with it: a revoked token must still cut every one of its connections, and only
// them, and a token that expires must be cut although no account file changed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { TestServer } from '../helpers/server';
import { admin, startTeamServer, upgrade, type Account } from './helpers';

const BOUND_MS = 2_500;

describe('credential recheck of open connections', () => {
  let server: TestServer;
  let alice: Account;
  const open: WebSocket[] = [];
  before(async () => {
    const team = await startTeamServer([{ name: 'alice', role: 'admin' }], [], false);
    server = team.server;
    alice = team.accounts.alice;
  });
  after(async () => {
    for (const ws of open) ws.terminate();
    await server.dispose();
  });

  /** `count` WebSockets opened with `authorization`. */
  async function sockets(authorization: string, count: number): Promise<WebSocket[]> {
    const kept: WebSocket[] = [];
    for (let i = 0; i < count; i++) assert.equal(await upgrade(server.url, { authorization }, kept), 'open');
    open.push(...kept);
    return kept;
  }
  const closedAt = (ws: WebSocket) => new Promise<number>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(Date.now()) : ws.once('close', () => resolve(Date.now()))));

  /** How long after `since` the last of `sockets` closed; fails once the bound has passed with some still open. */
  async function lastClosed(sockets: WebSocket[], since: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length} of ${sockets.length} connections still open ${BOUND_MS} ms after`)), since + BOUND_MS - Date.now());
    });
    try {
      return Math.max(...(await Promise.race([Promise.all(sockets.map(closedAt)), late]))) - since;
    } finally {
      clearTimeout(timer);
    }
  }

  it('cuts every connection of a revoked token, and none opened with another token or a password', async () => {
    const a = `Bearer ${admin(server.dataDir, ['tokens', 'create', 'bot-a']).trim()}`;
    const b = `Bearer ${admin(server.dataDir, ['tokens', 'create', 'bot-b']).trim()}`;
    const revoked = await sockets(a, 8);
    const kept = [...(await sockets(b, 3)), ...(await sockets(alice.authorization, 2))];
    admin(server.dataDir, ['tokens', 'revoke', 'bot-a']);
    await lastClosed(revoked, Date.now());
    // Two more rechecks: the others stay open.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    assert.deepEqual(
      kept.map((ws) => ws.readyState),
      kept.map(() => WebSocket.OPEN),
    );
  });

  it('cuts the connections of a token that expires, though no account file changed', async () => {
    // It expires 2 s after it is made, which is after this moment.
    const expiresAt = Date.now() + 2_000;
    const short = `Bearer ${admin(server.dataDir, ['tokens', 'create', 'short-lived', '--expires', '2000ms']).trim()}`;
    await lastClosed(await sockets(short, 4), expiresAt);
  });
});
