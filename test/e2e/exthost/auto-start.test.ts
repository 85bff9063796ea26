/// <reference types="mocha" />
// The extension starts the bundled server the way it does for users: detached, with VS Code's own
// runtime (process.execPath and ELECTRON_RUN_AS_NODE=1), and the server outlives the call.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ApiClient } from '../../../client/api-client';
import { parseEndpoint } from '../../../client/endpoint';
import { ensureServer, readServerInfo, stopLocalServer } from '../../../client/local-server';
import type { SkyDeckApi } from '../../../extension/extension';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('local auto-start', () => {
  it('starts the bundled server detached with the extension host runtime when nothing answers', async () => {
    const { services } = await vscode.extensions.getExtension<SkyDeckApi>('skydeck.skydeck')!.activate();
    const home = mkdtempSync(join(tmpdir(), 'skydeck-autostart-'));
    const client = new ApiClient({ endpoint: parseEndpoint(`http://127.0.0.1:${await freePort()}`, 'override'), user: { id: 'cccccccc', name: 'exthost' } });
    try {
      const started = await ensureServer(client, { ...services.session.localServerOptions(), home });
      assert.equal(started, true);
      assert.equal((await client.health()).status, 'healthy');
      assert.ok(readServerInfo(home)?.pid, 'the server recorded its pid');
      assert.equal(await ensureServer(client, { ...services.session.localServerOptions(), home }), false, 'a second client reuses it');
    } finally {
      await stopLocalServer(client, home).catch(() => undefined);
      client.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
