import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLoopbackHost, parseEndpoint, redact, resolveEndpoint } from '../../client/endpoint';
import { ClientError } from '../../client/errors';
import { skydeckHome } from '../../client/home';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), 'skydeck-endpoint-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

test('SKYDECK_HOME overrides ~/.skydeck', () => {
  assert.equal(skydeckHome({ SKYDECK_HOME: '/srv/sd' }), '/srv/sd');
  assert.match(skydeckHome({}), /\.skydeck$/);
});

test('without env or config the endpoint is the local default', (t) => {
  const endpoint = resolveEndpoint({ env: {}, home: tempHome(t) });
  assert.deepEqual(endpoint, { url: 'http://127.0.0.1:46590', authorization: undefined, local: true, source: 'default' });
});

test('config.yaml api_server.endpoint is used when the env var is absent', (t) => {
  const home = tempHome(t);
  writeFileSync(join(home, 'config.yaml'), 'api_server:\n  endpoint: https://skydeck.example.com:8443/\n');
  const endpoint = resolveEndpoint({ env: {}, home });
  assert.equal(endpoint.url, 'https://skydeck.example.com:8443');
  assert.equal(endpoint.local, false);
  assert.equal(endpoint.source, 'config');
});

test('SKYDECK_API_SERVER_ENDPOINT wins over config.yaml, and an explicit override wins over both', (t) => {
  const home = tempHome(t);
  writeFileSync(join(home, 'config.yaml'), 'api_server:\n  endpoint: http://config-host:1\n');
  const env = { SKYDECK_API_SERVER_ENDPOINT: 'http://127.0.0.1:5555' };
  assert.equal(resolveEndpoint({ env, home }).url, 'http://127.0.0.1:5555');
  assert.equal(resolveEndpoint({ env, home }).source, 'env');
  assert.equal(resolveEndpoint({ env, home, override: 'http://localhost:7' }).url, 'http://localhost:7');
});

test('credentials in the URL become a Basic header and leave the URL', () => {
  const endpoint = parseEndpoint('http://alice:s3cr%40t@team.example.com:46590', 'env');
  assert.equal(endpoint.url, 'http://team.example.com:46590');
  assert.equal(endpoint.authorization, `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  assert.ok(!endpoint.url.includes('s3cr'));
});

test('a bare host:port gets http://', () => {
  assert.equal(parseEndpoint('127.0.0.1:9000', 'env').url, 'http://127.0.0.1:9000');
});

test('bad endpoints and bad config are clear errors that never echo a password', (t) => {
  assert.throws(() => parseEndpoint('ftp://host', 'env'), (err: Error) => err instanceof ClientError && /http:\/\/ or https:\/\//.test(err.message));
  assert.throws(() => parseEndpoint('http://user:hunter2@[bad', 'env'), (err: Error) => err instanceof ClientError && !err.message.includes('hunter2'));
  const home = tempHome(t);
  writeFileSync(join(home, 'config.yaml'), 'api_server: [\n');
  assert.throws(() => resolveEndpoint({ env: {}, home }), /config\.yaml is not valid YAML/);
  writeFileSync(join(home, 'config.yaml'), 'api_server:\n  endpoint: 42\n');
  assert.throws(() => resolveEndpoint({ env: {}, home }), /must be a URL string/);
});

test('a config.yaml without api_server falls back to the default', (t) => {
  const home = tempHome(t);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.yaml'), 'something_else: true\n');
  assert.equal(resolveEndpoint({ env: {}, home }).source, 'default');
});

test('only loopback hosts count as local', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1', 'LOCALHOST']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.1', 'example.com', '0.0.0.0', '127.0.0.1.example.com']) assert.ok(!isLoopbackHost(host), host);
  assert.equal(parseEndpoint('http://[::1]:1234', 'env').local, true);
});

test('redact hides user:password in URLs', () => {
  assert.equal(redact('see http://bob:pw@host:1/x and https://t@h'), 'see http://***@host:1/x and https://***@h');
  assert.equal(redact('http://host:1'), 'http://host:1');
});
