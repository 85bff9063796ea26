/// <reference types="mocha" />
// Connecting to another endpoint: credentials typed in the URL go to SecretStorage, never into settings,
// and a server that refuses them leaves the extension signed out (not connected) until it is fixed.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SkyDeckApi } from '../../../extension/extension';

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('connect to an API server', () => {
  it('keeps URL credentials in SecretStorage and out of the settings', async () => {
    const { services } = await vscode.extensions.getExtension<SkyDeckApi>('skydeck.skydeck')!.activate();
    await until('a connection', () => services.session.state === 'connected');
    const original = services.session.connection!.endpoint.url;
    const port = new URL(original).port;
    // Another origin for the same server (localhost instead of 127.0.0.1), so the stored credentials
    // do not shadow the local token when the original endpoint is restored.
    const other = `http://localhost:${port}`;
    try {
      await services.session.useEndpoint(`http://ann:s3cret@localhost:${port}`);
      assert.equal(vscode.workspace.getConfiguration('skydeck').get('apiServerEndpoint'), other);
      const secret = await services.context.secrets.get(`skydeck.credentials:${other}`);
      assert.deepEqual(JSON.parse(secret!), { kind: 'basic', user: 'ann', password: 's3cret' });
      // This server knows only its local token: Basic credentials for an unknown account are refused.
      await until('the refusal', () => services.session.state === 'unauthorized');
    } finally {
      await services.context.secrets.delete(`skydeck.credentials:${other}`);
      await services.session.useEndpoint(original);
    }
    await until('the connection back', () => services.session.state === 'connected');
  });
});
