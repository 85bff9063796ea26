// The pieces the server's protection is made of, checked one by one (no server needed).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkToken, newToken, type TokenEntry } from '../../server/auth/accounts';
import { isLoopbackHostHeader } from '../../server/auth/gate';
import { clientKey } from '../../server/auth/client-address';
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

test('failed logins make a key wait longer and longer; success forgets them', () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) throttle.failed('a', 0);
  assert.equal(throttle.waitFor('a', 0), 0);
  throttle.failed('a', 0);
  assert.equal(throttle.waitFor('a', 0), 1_000);
  throttle.failed('a', 1_000);
  assert.equal(throttle.waitFor('a', 1_000), 2_000);
  for (let i = 0; i < 20; i++) throttle.failed('a', 5_000);
  assert.equal(throttle.waitFor('a', 5_000), 60_000, 'capped at a minute');
  assert.equal(throttle.waitFor('b', 5_000), 0, 'other keys are not affected');
  throttle.succeeded('a');
  assert.equal(throttle.waitFor('a', 5_000), 0);
});

test('a guesser cannot flush its record by rotating addresses, and memory stays bounded', () => {
  const small = new LoginThrottle({ maxTracked: 100 });
  for (let i = 0; i < 6; i++) small.failed('alice@192.0.2.1', 0);
  assert.ok(small.waitFor('alice@192.0.2.1', 0) > 0);
  // One IPv6 host owns a /64: every address in it is one client.
  const rotated = Array.from({ length: 100_000 }, (_, i) => `2001:db8:1:2:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::${i % 7}`);
  assert.deepEqual(new Set(rotated.map(clientKey)), new Set(['2001:db8:1:2::/64']));
  assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  // Past the table size, new keys share one record instead of pushing old ones out.
  for (let i = 0; i < 5_000; i++) small.failed(`alice@10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1);
  assert.equal(small.tracked <= 101, true, `${small.tracked} keys tracked`);
  assert.ok(small.waitFor('alice@192.0.2.1', 1) > 0, 'the first record is still there');
  assert.ok(small.waitFor('alice@10.9.9.9', 1) > 0, 'a new address past the limit shares the overflow record, which is blocked');
  // Quiet records are forgotten, which makes room again.
  assert.equal(small.waitFor('alice@192.0.2.1', 16 * 60_000), 0);
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
