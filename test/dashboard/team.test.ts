// The dashboard of a team server in Chromium: sign-in and sign-out, admins' Users and Tokens pages over
// the admin API, a user who sees no admin page and whom the server refuses anyway, and sessions ended
// when the account changes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runCli } from '../helpers/cli';
import type { TestServer } from '../helpers/server';
import { startTeamServer, type Account } from '../security/helpers';
import { launchBrowser, newTab, shot } from './browser';

let server: TestServer;
let accounts: Record<string, Account>;
let browser: Browser;

before(async () => {
  ({ server, accounts } = await startTeamServer([
    { name: 'alice', role: 'admin' },
    { name: 'bob', role: 'user' },
  ]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function signIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${server.url}/dashboard/`);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who', { hasText: name }).waitFor();
}

const apiStatus = (page: Page, path: string, method = 'GET', body?: unknown) =>
  page.evaluate(
    async ([p, m, b]) => (await fetch(p as string, { method: m as string, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined })).status,
    [path, method, body] as const,
  );

test('sign in with a password, sign out, and a wrong password is refused with the reason', async () => {
  const { context, page, errors } = await newTab(browser);
  try {
    await page.goto(`${server.url}/dashboard/`);
    await shot(page, 'sign-in');
    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('wrong user name or password').waitFor();
    await signIn(page, 'alice', accounts.alice!.password);
    const cookie = (await context.cookies()).find((c) => c.name === 'skydeck_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await apiStatus(page, '/api/requests'), 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await apiStatus(page, '/api/requests'), 401, 'the session is gone on the server');
    // The old cookie, sent again by hand, opens nothing either.
    const replay = await fetch(`${server.url}/api/requests`, { headers: { cookie: `skydeck_session=${cookie.value}` } });
    assert.equal(replay.status, 401);
    assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
  } finally {
    await context.close();
  }
});

test('an admin adds a user, resets a password (shown once) and creates a token on the Users and Tokens pages', async () => {
  const { context, page } = await newTab(browser);
  try {
    await signIn(page, 'alice', accounts.alice!.password);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.locator('tr[data-user="bob"]').waitFor();
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Name').fill('carol');
    await form.getByRole('button', { name: 'Add user' }).click();
    const password = (await page.locator('#shown-once').innerText()).trim();
    assert.match(password, /^[A-Za-z0-9_-]{24}$/);
    await page.locator('tr[data-user="carol"]').waitFor();
    await shot(page, 'users');
    // The generated password works for the API at once.
    const carol = await fetch(`${server.url}/api/requests`, { headers: { authorization: `Basic ${Buffer.from(`carol:${password}`).toString('base64')}` } });
    assert.equal(carol.status, 200);

    await page.getByRole('link', { name: 'Tokens' }).click();
    const tokenForm = page.getByRole('form', { name: 'Create a token' });
    await tokenForm.getByLabel('Name').fill('ci-bot');
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.locator('#shown-once').innerText()).trim();
    assert.match(token, /^skdk_[0-9a-f]{8}_/);
    await shot(page, 'tokens');
    await page.reload();
    await page.locator('tr[data-token="ci-bot"]').waitFor();
    assert.equal(await page.locator('#shown-once').count(), 0, 'the token is shown once');

    // The token signs in to the dashboard too.
    const bot = await newTab(browser);
    await bot.page.goto(`${server.url}/dashboard/`);
    await bot.page.getByRole('tab', { name: 'Service-account token' }).click();
    await bot.page.getByLabel('Token').fill(token);
    await bot.page.getByRole('button', { name: 'Sign in' }).click();
    await bot.page.locator('#who', { hasText: 'ci-bot' }).waitFor();
    // Revoking it ends that session at once.
    await page.getByRole('button', { name: 'Revoke token ci-bot' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await page.locator('#account-message', { hasText: 'Revoked token' }).waitFor();
    assert.equal(await apiStatus(bot.page, '/api/requests'), 401);
    await bot.context.close();
  } finally {
    await context.close();
  }
});

test('a user sees no admin page, and the server refuses the admin API to them', async () => {
  const { context, page } = await newTab(browser);
  try {
    await signIn(page, 'bob', accounts.bob!.password);
    assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Tokens' }).count(), 0);
    await page.goto(`${server.url}/dashboard/users`);
    await page.getByText('it is for admins').waitFor();
    await shot(page, 'users-refused');
    assert.equal(await apiStatus(page, '/api/admin/users'), 403);
    assert.equal(await apiStatus(page, '/api/admin/users', 'POST', { name: 'mallory', role: 'admin', password: 'long-enough-pw' }), 403);
    assert.equal(await apiStatus(page, '/api/admin/tokens', 'POST', { name: 'mine', role: 'admin' }), 403);
  } finally {
    await context.close();
  }
});

test('the admin API refuses bad input naming the field, and an oversized body, before any account changes', async () => {
  const admin = (path: string, method: string, body?: string) =>
    fetch(`${server.url}/api/admin${path}`, { method, headers: { authorization: accounts.alice!.authorization, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
  const before = ((await (await admin('/users', 'GET')).json()) as { users: unknown[] }).users.length;
  const longName = await admin(`/users/${'x'.repeat(65)}`, 'DELETE');
  assert.equal(longName.status, 400);
  assert.match(((await longName.json()) as { error: { message: string } }).error.message, /path: name/);
  const badRole = await admin('/users', 'POST', JSON.stringify({ name: 'erin', role: 'root', password: 'long-enough-pw' }));
  assert.equal(badRole.status, 400);
  assert.match(((await badRole.json()) as { error: { message: string } }).error.message, /new user: role/);
  const huge = await admin('/users', 'POST', JSON.stringify({ name: 'erin', password: 'p'.repeat(20 * 1024) }));
  assert.equal(huge.status, 413);
  assert.equal(((await (await admin('/users', 'GET')).json()) as { users: unknown[] }).users.length, before, 'no account was added');
});

test("a user's session ends when an admin changes their role or removes them", async () => {
  const { context, page } = await newTab(browser);
  try {
    await signIn(page, 'bob', accounts.bob!.password);
    assert.equal(await apiStatus(page, '/api/requests'), 200);
    const promote = await fetch(`${server.url}/api/admin/users/bob`, { method: 'POST', headers: { authorization: accounts.alice!.authorization, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'admin' }) });
    assert.equal(promote.status, 200);
    assert.ok(((await promote.json()) as { sessionsEnded: number }).sessionsEnded >= 1, 'bob\'s sessions are ended');
    assert.equal(await apiStatus(page, '/api/requests'), 401, 'the old session does not carry the new role');
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await signIn(page, 'bob', accounts.bob!.password);
    await page.getByRole('link', { name: 'Users' }).waitFor();
    const remove = await fetch(`${server.url}/api/admin/users/bob`, { method: 'DELETE', headers: { authorization: accounts.alice!.authorization } });
    assert.equal(remove.status, 200);
    // The page's WebSocket is closed at once, and the page finds its session gone: it shows the sign-in page.
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 5_000 });
    assert.equal(await apiStatus(page, '/api/requests'), 401);
  } finally {
    await context.close();
  }
});

test('`skydeck users` and `skydeck tokens` use the admin API against a team server, for admins only', async () => {
  const as = (name: string) => ({ home: server.home, url: server.url.replace('//', `//${name}:${accounts[name]!.password}@`) });
  const add = await runCli(as('alice'), ['users', 'add', 'dave', '--generate-password']);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /Added user dave \(user\)\.\nGenerated password \(shown only now\): \S{24}/);
  const list = await runCli(as('alice'), ['users', 'list', '--json']);
  assert.ok((JSON.parse(list.stdout) as { name: string }[]).some((u) => u.name === 'dave'));
  const token = await runCli(as('alice'), ['tokens', 'create', 'nightly', '--expires', '30d']);
  assert.match(token.stdout.trim(), /^skdk_[0-9a-f]{8}_/);
  assert.match((await runCli(as('alice'), ['tokens', 'revoke', 'nightly'])).stdout, /Revoked token/);
  const davePassword = /shown only now\): (\S+)/.exec(add.stdout)![1]!;
  const refused = await runCli({ home: server.home, url: server.url.replace('//', `//dave:${davePassword}@`) }, ['users', 'list']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /only an admin may manage the server's accounts/);
});
