// Floods: bodies, uploads and WebSocket consumers meant to exhaust the server's memory or stack get a
// clear 4xx (or a slow consumer is paused or dropped), and the server stays up and small.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server';
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
});
