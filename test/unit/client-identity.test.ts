import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { headerSafeUserName } from '../../client/api-client';
import { resolveIdentity, userHash } from '../../client/identity';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), 'skydeck-identity-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

test('the user hash is generated once into SKYDECK_HOME/user_hash and then reused', (t) => {
  const home = tempHome(t);
  const first = resolveIdentity(home, {});
  assert.match(first.id, /^[0-9a-f]{8}$/);
  assert.equal(readFileSync(join(home, 'user_hash'), 'utf8').trim(), first.id);
  assert.equal(resolveIdentity(home, {}).id, first.id);
  assert.equal(first.name, userInfo().username);
});

test('SKYDECK_USER_ID and SKYDECK_USER override the hash and the OS name', (t) => {
  const home = tempHome(t);
  assert.deepEqual(resolveIdentity(home, { SKYDECK_USER_ID: 'abcdef01', SKYDECK_USER: 'ci-bot' }), { id: 'abcdef01', name: 'ci-bot' });
});

test('a malformed SKYDECK_USER_ID is refused', (t) => {
  assert.throws(() => resolveIdentity(tempHome(t), { SKYDECK_USER_ID: 'ABC' }), /8 lowercase hex digits/);
});

test('a user_hash file with garbage is replaced by a valid hash', (t) => {
  const home = tempHome(t);
  const path = join(home, 'user_hash');
  writeFileSync(path, 'not-a-hash\n');
  const id = userHash(path);
  assert.match(id, /^[0-9a-f]{8}$/);
  assert.equal(readFileSync(path, 'utf8').trim(), id);
});

test('a missing SKYDECK_HOME is created for the hash', (t) => {
  const home = join(tempHome(t), 'nested', 'home');
  assert.match(resolveIdentity(home, {}).id, /^[0-9a-f]{8}$/);
});

test('user names are made safe for the identity header', () => {
  assert.equal(headerSafeUserName('alice'), 'alice');
  assert.equal(headerSafeUserName('José Müller'), 'Jose Muller');
  assert.equal(headerSafeUserName('john+doe\r\nx: y'), 'john_doe__x_ y');
  assert.equal(headerSafeUserName('名前'), '__');
  assert.equal(headerSafeUserName('   '), 'user');
  assert.equal(headerSafeUserName('x'.repeat(100)).length, 64);
});
