// Drives the dashboard in Chromium: the callbacks passed to page.evaluate run in the page, so DOM types apply here.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The dashboard of a local server in Chromium: the one-time link from `skydeck dashboard --url`, requests
// appearing live as the CLI submits them, cancel from the page, and a running log followed to its end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { runCli } from '../helpers/cli';
import { localDashboard, newTab, shot } from './browser';

const ALICE_ENV = { SKYDECK_USER: 'alice', SKYDECK_USER_ID: 'a11ce000' };
const dash = localDashboard();

async function dashboardLink(): Promise<string> {
  const run = await runCli(dash.target, ['dashboard', '--url'], { env: ALICE_ENV });
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim();
}

async function launchAsync(cluster: string, command: string): Promise<string> {
  const run = await runCli(dash.target, ['launch', '-c', cluster, '-y', '--async', command], { env: ALICE_ENV });
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim();
}

const row = (page: Page, id: string) => page.locator(`[data-request-id="${id}"]`);


test('the one-time link from `skydeck dashboard --url` signs the browser in, and is refused the second time', async () => {
  const link = await dashboardLink();
  assert.match(link, new RegExp(`^${dash.server.url}/dashboard/link\\?code=[A-Za-z0-9_-]{43}$`));
  const answer = await dash.tab.page.goto(link);
  assert.equal(new URL(dash.tab.page.url()).pathname, '/dashboard/');
  assert.ok(answer?.ok());
  await dash.tab.page.locator('#who', { hasText: 'alice' }).waitFor();
  const cookie = (await dash.tab.context.cookies()).find((c) => c.name === 'skydeck_session');
  assert.ok(cookie, 'a session cookie was set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.ok(cookie.expires > Date.now() / 1000, 'the session expires');

  const other = await newTab(dash.browser);
  try {
    const second = await other.page.goto(link);
    assert.equal(second?.status(), 401);
    assert.match(await other.page.locator('body').innerText(), /already used or has expired/);
    assert.equal((await other.context.cookies()).length, 0);
    // Without a session the page holds nothing and the API refuses.
    await other.page.goto(`${dash.server.url}/dashboard/requests`);
    await other.page.getByText('Run skydeck dashboard', { exact: false }).waitFor();
    const status = await other.page.evaluate(async () => (await fetch('/api/requests')).status);
    assert.equal(status, 401);
  } finally {
    await other.context.close();
  }
});

test('a request submitted from the CLI appears on the Requests page within a second, without reloading', async () => {
  await dash.tab.page.goto(`${dash.server.url}/dashboard/requests`);
  await dash.tab.page.locator('.live-open').waitFor();
  const id = await launchAsync('dash', 'echo hello from the cli');
  const t0 = Date.now();
  await row(dash.tab.page, id).waitFor({ timeout: 1_000 });
  console.log(`# request row shown ${Date.now() - t0} ms after the CLI returned`);
  await row(dash.tab.page, id).locator('.status-SUCCEEDED').waitFor({ timeout: 30_000 });
  await shot(dash.tab.page, 'requests');
  assert.deepEqual(dash.tab.errors, []);
});

test('cancel from the page: the confirmation names the request, and the request ends CANCELLED', async () => {
  const id = await launchAsync('dash', 'echo sleeping; sleep 300');
  await dash.tab.page.goto(`${dash.server.url}/dashboard/requests`);
  await row(dash.tab.page, id).locator('.status-RUNNING').waitFor({ timeout: 30_000 });
  await row(dash.tab.page, id).getByRole('button', { name: `Cancel request ${id.slice(0, 8)}` }).click();
  const dialog = dash.tab.page.getByRole('dialog');
  assert.match(await dialog.innerText(), new RegExp(`Cancel 1 request\\?[\\s\\S]*${id.slice(0, 8)} \\(launch\\)`));
  await shot(dash.tab.page, 'requests-cancel-confirm');
  await dialog.getByRole('button', { name: 'Cancel requests' }).click();
  await row(dash.tab.page, id).locator('.status-CANCELLED').waitFor({ timeout: 5_000 });
  assert.equal((await dash.server.waitFor(id, 5)).status, 'CANCELLED');
});

test("a running request's log is followed live to its end, with colours and search", async () => {
  const id = await launchAsync('dash', 'for i in $(seq 1 120); do printf "\\033[32mline %s\\033[0m of the log\\n" $i; sleep 0.02; done; echo the-end');
  await dash.tab.page.goto(`${dash.server.url}/dashboard/requests/${id}`);
  await dash.tab.page.locator('#log-state', { hasText: 'ended: SUCCEEDED' }).waitFor({ timeout: 30_000 });
  const log = dash.tab.page.locator('#log');
  await log.getByText('the-end').waitFor();
  assert.equal(await dash.tab.page.locator('#follow').isChecked(), true);
  // Followed to the end: the last line is in the scroller's view.
  const inView = await log.evaluate((el) => {
    const last = [...el.querySelectorAll('.log-line')].find((l) => l.textContent === 'the-end')!;
    const a = last.getBoundingClientRect();
    const b = el.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  });
  assert.equal(inView, true, 'the last line is scrolled into view');
  assert.ok((await log.locator('.ansi-fg-2').count()) > 0, 'green ANSI text is coloured');
  assert.equal(await log.locator('text=\u001b').count(), 0);
  await dash.tab.page.locator('#search').fill('line 7');
  await dash.tab.page.locator('#matches', { hasText: '11 lines' }).waitFor();
  await shot(dash.tab.page, 'request');
  const download = await Promise.all([dash.tab.page.waitForEvent('download'), dash.tab.page.getByRole('link', { name: 'Download' }).click()]).then(([d]) => d);
  const text = await (await download.createReadStream()).toArray();
  assert.ok(Buffer.concat(text).toString().includes('line 120\u001b[0m of the log\nthe-end'), 'the download is the raw log');
});

test('Clusters shows each cluster with its jobs, and Tear down names the requests it will cancel; Infra and Server show the live state', async () => {
  const id = await launchAsync('dash', 'echo busy; sleep 300');
  const page = dash.tab.page;
  await page.goto(`${dash.server.url}/dashboard/clusters`);
  const card = page.locator('[data-cluster="dash"]');
  await card.locator('.status-UP').waitFor();
  await card.locator('tr[data-job] .status-RUNNING').first().waitFor({ timeout: 30_000 });
  await card.getByRole('button', { name: 'Tear down' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(`request ${id.slice(0, 8)} (launch, alice)`).waitFor();
  await shot(page, 'clusters-down-confirm');
  await dialog.getByRole('button', { name: 'Back' }).click();
  await shot(page, 'clusters');
  await dash.server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [id] }) });

  await page.goto(`${dash.server.url}/dashboard/infra`);
  await page.locator('tr[data-infra="local"]', { hasText: 'enabled' }).waitFor();
  // The inventory's local machine, with the cluster on it (a link to it) and what it has.
  const machine = page.getByRole('table', { name: 'Nodes of local' }).locator('tr[data-node]');
  await machine.getByRole('link', { name: 'dash' }).waitFor();
  await machine.locator('.status-SUCCEEDED', { hasText: 'up' }).waitFor();
  assert.match(await machine.innerText(), /\d+\s+[\d.]+ GiB\s+[\d.]+ GB/, 'CPUs, memory and free disk');
  await shot(page, 'infra');

  await page.goto(`${dash.server.url}/dashboard/server`);
  await page.locator('#workers .value', { hasText: '/' }).waitFor();
  assert.match(await page.locator('#server-version .value').innerText(), /^\d+\.\d+\.\d+/);
  await page.getByRole('link', { name: /\/metrics/ }).waitFor();
  await shot(page, 'server');
  assert.deepEqual(dash.tab.errors, []);
});

test('on a phone, in the dark: the pages fit the width and follow the system theme', async () => {
  const phone = await newTab(dash.browser, { colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true });
  try {
    await phone.page.goto(await dashboardLink());
    await phone.page.locator('[data-request-id]').first().waitFor();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the phone`);
    const background = await phone.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(13, 17, 23)', 'dark theme');
    await shot(phone.page, 'requests-phone-dark');
    await phone.page.locator('[data-request-id] a').first().click();
    await phone.page.locator('#log-state').waitFor();
    await shot(phone.page, 'request-phone-dark');
    // Keyboard: the first Tab lands on the skip link, and every control has a name.
    await phone.page.reload();
    await phone.page.locator('#log-state').waitFor();
    await phone.page.keyboard.press('Tab');
    assert.equal(await phone.page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const unnamed = await phone.page.evaluate(() =>
      [...document.querySelectorAll('button, input, select, a[href]')].filter((e) => !(e as HTMLElement).innerText?.trim() && !e.getAttribute('aria-label') && !e.closest('label') && !(e.id && document.querySelector(`label[for="${e.id}"]`))).length,
    );
    assert.equal(unnamed, 0, 'every control has a label');
  } finally {
    await phone.context.close();
  }
});
