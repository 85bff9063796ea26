import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveExtensionEndpoint, splitCredentials } from '../../extension/connection/endpoint';

function withHome(config: string | undefined, fn: (home: string) => void): void {
  const home = mkdtempSync(join(tmpdir(), 'skydeck-ext-endpoint-'));
  try {
    if (config !== undefined) writeFileSync(join(home, 'config.yaml'), config);
    fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('the setting wins over the environment, which wins over config.yaml, which wins over the default', () => {
  withHome('api_server:\n  endpoint: http://config.example:1\n', (home) => {
    const env = { SKYDECK_API_SERVER_ENDPOINT: 'http://env.example:2' };
    assert.equal(resolveExtensionEndpoint('http://setting.example:3', home, env).endpoint.url, 'http://setting.example:3');
    assert.equal(resolveExtensionEndpoint('', home, env).endpoint.url, 'http://env.example:2');
    assert.equal(resolveExtensionEndpoint(undefined, home, {}).endpoint.url, 'http://config.example:1');
  });
  withHome(undefined, (home) => {
    const { endpoint } = resolveExtensionEndpoint('  ', home, {});
    assert.equal(endpoint.url, 'http://127.0.0.1:46590');
    assert.equal(endpoint.local, true);
    assert.equal(endpoint.source, 'default');
  });
});

test('credentials in a typed URL are split off for the secret store and never kept in the URL', () => {
  const { endpoint, urlCredentials } = splitCredentials('https://ann:s%3Acret@team.example/');
  assert.equal(endpoint.url, 'https://team.example');
  assert.equal(endpoint.authorization, undefined);
  assert.equal(endpoint.local, false);
  assert.deepEqual(urlCredentials, { kind: 'basic', user: 'ann', password: 's:cret' });
  withHome(undefined, (home) => {
    const resolved = resolveExtensionEndpoint('http://bob:pw@localhost:9', home, {});
    assert.equal(resolved.endpoint.url, 'http://localhost:9');
    assert.deepEqual(resolved.urlCredentials, { kind: 'basic', user: 'bob', password: 'pw' });
  });
});

test('a URL without credentials carries none', () => {
  assert.equal(splitCredentials('127.0.0.1:5000').urlCredentials, undefined);
  assert.equal(splitCredentials('127.0.0.1:5000').endpoint.url, 'http://127.0.0.1:5000');
});
