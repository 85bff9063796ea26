import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LINK_TTL_MS, SessionStore, sessionCookie } from '../../server/auth/sessions';

const alice = { user: { id: 'a11ce000', name: 'alice' }, role: 'user' as const };
const account = { kind: 'user' as const, name: 'alice', stamp: 'x' };

test('a sign-in link works once, and not after it expires', () => {
  const store = new SessionStore();
  const { code, expiresAt } = store.issueLink(alice, account, 1_000);
  assert.ok(expiresAt - 1_000 <= 60_000, 'links live under a minute');
  assert.deepEqual(store.redeemLink(code, 2_000)?.principal, alice);
  assert.equal(store.redeemLink(code, 2_000), undefined, 'the second use is refused');
  const late = store.issueLink(alice, account, 1_000);
  assert.equal(store.redeemLink(late.code, 1_000 + LINK_TTL_MS), undefined, 'an expired link is refused');
});

test('sessions are found by their id, expire, and hold only hashes of ids', () => {
  const store = new SessionStore(10_000);
  const { id } = store.create(alice, account, 0);
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(store.get(id, 5_000)?.principal, alice);
  assert.equal(store.get(id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A'), 5_000), undefined);
  assert.ok(!JSON.stringify([...(store as unknown as { sessions: Map<string, unknown> }).sessions.keys()]).includes(id), 'the id itself is not stored');
  assert.equal(store.get(id, 10_000), undefined, 'expired');
});

test('revokeWhere ends the sessions it selects', () => {
  const store = new SessionStore();
  const a = store.create(alice, account);
  const b = store.create({ user: { id: 'b0b00000', name: 'bob' }, role: 'user' }, { kind: 'user', name: 'bob', stamp: 'y' });
  assert.equal(store.revokeWhere((s) => s.principal.user.name === 'alice'), 1);
  assert.equal(store.get(a.id), undefined);
  assert.ok(store.get(b.id));
});

test('the session cookie is read from among other cookies', () => {
  assert.equal(sessionCookie({ cookie: 'a=1; skydeck_session=abc_-; b=2' }), 'abc_-');
  assert.equal(sessionCookie({ cookie: 'a=1' }), undefined);
  assert.equal(sessionCookie({}), undefined);
});
