// The dashboard's Jobs page in Chromium: a managed job launched with the CLI shows with SkyPilot's queue
// columns and its status, its log opens as a request page, and Cancel from the page ends it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ManagedJob } from '../../protocol/jobs';
import { disposeWithWork, runCli, type CliTarget } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { launchBrowser, newTab, shot, type Tab } from './browser';

const ALICE_ENV = { SKYDECK_USER: 'alice', SKYDECK_USER_ID: 'a11ce000' };
let server: TestServer;
let browser: Browser;
let target: CliTarget;
let tab: Tab;

before(async () => {
  server = await startServer();
  target = { home: server.home, url: server.url };
  browser = await launchBrowser();
  tab = await newTab(browser);
});

after(async () => {
  await browser?.close();
  if (server) {
    await server.waitFor(await server.submit('jobs.cancel', { all: true, allUsers: true })).catch(() => undefined);
    await disposeWithWork(server);
  }
});

test('a managed job shows on the Jobs page with its status; its log opens; Cancel ends it', async () => {
  const run = await runCli(target, ['jobs', 'launch', '-n', 'dash-job', '-y', '--async', 'echo from-the-managed-job; sleep 60'], { env: ALICE_ENV });
  assert.equal(run.code, 0, run.stderr);
  const id = Number(run.stdout.trim());
  const link = await runCli(target, ['dashboard', '--url'], { env: ALICE_ENV });
  await tab.page.goto(link.stdout.trim());
  await tab.page.goto(`${server.url}/dashboard/jobs`);
  const row = tab.page.locator(`[data-managed-job="${id}"]`);
  await row.getByText('RUNNING').waitFor({ timeout: 20_000 });
  assert.match(await row.innerText(), /dash-job/);
  for (const header of ['Requested', 'Tot. duration', 'Job duration', '#Recoveries', 'Status']) await tab.page.getByRole('columnheader', { name: header, exact: true }).waitFor();
  await shot(tab.page, 'jobs-running');

  await row.getByRole('button', { name: 'Log', exact: true }).click();
  await tab.page.waitForURL(/\/dashboard\/requests\//);
  await tab.page.getByText('from-the-managed-job').first().waitFor({ timeout: 20_000 });

  await tab.page.goto(`${server.url}/dashboard/jobs`);
  tab.page.once('dialog', (d) => void d.accept());
  await tab.page.locator(`[data-managed-job="${id}"]`).getByRole('button', { name: 'Cancel' }).click();
  await eventually(async () => (await server.json<{ jobs: ManagedJob[] }>('/api/jobs?all_users=1')).body.jobs.find((j) => j.id === id)?.status === 'CANCELLED', 10_000, 'the job to be CANCELLED');
  await tab.page.locator(`[data-managed-job="${id}"]`).getByText('CANCELLED').waitFor({ timeout: 10_000 });
  await shot(tab.page, 'jobs-cancelled');
});
