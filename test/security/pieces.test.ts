// The pieces the server's protection is made of, checked one by one (no server needed).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkToken, newToken, type TokenEntry } from '../../server/auth/accounts';
import { isLoopbackHostHeader } from '../../server/auth/gate';
import { LoginThrottle } from '../../server/auth/login-throttle';
import { loadLocalToken } from '../../server/auth/local-token';
import { WatchedFile, writeOwnerFile } from '../../server/auth/owner-file';
import { hashPassword, verifyPassword } from '../../server/auth/passwords';

test('loopback Host headers are told apart from look-alikes', () => {
  for (const host of ['127.0.0.1', '127.0.0.1:46590', 'localhost', 'LOCALHOST:1', 'app.localhost:3', '[::1]:46590', '[::1]', '127.255.0.9:80', 'localhost.']) {
    assert.equal(isLoopbackHostHeader(host), true, host);
  }
  for (const host of ['', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', '128.0.0.1', '127.0.0.256', '0.0.0.0', '[::2]', '::1', '127.0.0.1:1@evil', 'localhost:80:80', '[::ffff:7f00:1]x']) {
    assert.equal(isLoopbackHostHeader(host), false, host);
  }
});

test('a password verifies against its scrypt hash and nothing else', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('correct hors', hash), false);
  assert.equal(await verifyPassword('correct horse', 'plain-text'), false);
  assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
});

test('a token is checked by its hash, and refused once expired', () => {
  const fresh = newToken();
  const entry: TokenEntry = { id: fresh.id, name: 'ci', role: 'user', sha256: fresh.sha256, createdAt: 0, expiresAt: 10_000 };
  assert.equal(checkToken([entry], fresh.token, 9_999).ok, true);
  assert.deepEqual(checkToken([entry], fresh.token, 10_000), { ok: false, reason: `token ci expired at ${new Date(10_000).toISOString()}` });
  assert.equal(checkToken([entry], fresh.token.slice(0, -1) + (fresh.token.endsWith('A') ? 'B' : 'A'), 0).ok, false);
  assert.equal(checkToken([], fresh.token, 0).ok, false);
  assert.equal(checkToken([entry], 'skdk_nothing', 0).ok, false);
});

test('failed logins make an address wait longer and longer; success forgets them', () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) throttle.failed('a', 0);
  assert.equal(throttle.waitFor('a', 0), 0);
  throttle.failed('a', 0);
  assert.equal(throttle.waitFor('a', 0), 1_000);
  throttle.failed('a', 1_000);
  assert.equal(throttle.waitFor('a', 1_000), 2_000);
  for (let i = 0; i < 20; i++) throttle.failed('a', 5_000);
  assert.equal(throttle.waitFor('a', 5_000), 60_000, 'capped at a minute');
  assert.equal(throttle.waitFor('b', 5_000), 0, 'other addresses are not affected');
  throttle.succeeded('a');
  assert.equal(throttle.waitFor('a', 5_000), 0);
  const small = new LoginThrottle({ maxTracked: 2 });
  for (const address of ['x', 'y', 'z']) for (let i = 0; i < 6; i++) small.failed(address, 0);
  assert.equal(small.waitFor('x', 0), 0, 'the oldest address is forgotten first');
  assert.ok(small.waitFor('z', 0) > 0);
});

test('a watched file is re-read after each atomic replacement and keeps its last good value on damage', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-watched-'));
  try {
    const file = path.join(dir, 'f.json');
    const errors: string[] = [];
    const watched = new WatchedFile(file, (j) => j as number[], [], (m) => errors.push(m));
    assert.deepEqual(watched.current(), []);
    for (let i = 1; i <= 50; i++) {
      writeOwnerFile(file, JSON.stringify([i]));
      assert.deepEqual(watched.current(), [i]);
    }
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, '{broken');
    assert.deepEqual(watched.current(), [50]);
    assert.match(errors[0]!, /keeping the previous contents/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the local token is made once, kept across loads, and tightened to 0600', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-token-'));
  try {
    const first = loadLocalToken(dir);
    assert.equal(loadLocalToken(dir), first);
    chmodSync(path.join(dir, 'local-token'), 0o644);
    assert.equal(loadLocalToken(dir), first);
    assert.equal(statSync(path.join(dir, 'local-token')).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
