// Drives the dashboard in Chromium: the callbacks passed to page.evaluate run in the page, so DOM types apply here.
/// <reference lib="dom" />
// A 50 MB log followed in the request page does not freeze the tab: the page follows it to its end
// (the last line in view, coloured), stays interactive while it streams (a search answers mid-stream),
// and finds a line near the end. The time it takes is a figure (npm run bench:dashboard), not asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bigLogCommand, bigLogLines } from '../helpers/big-log';
import { runCli } from '../helpers/cli';
import { localDashboard, shot } from './browser';

const MB = 50;
const dash = localDashboard();

test(`a ${MB} MB log is followed to its end without freezing the page`, async () => {
  const link = await runCli(dash.target, ['dashboard', '--url']);
  assert.equal(link.code, 0, link.stderr);
  await dash.tab.page.goto(link.stdout.trim());
  const launched = await runCli(dash.target, ['launch', '-c', 'big', '-y', '--async', bigLogCommand(MB)]);
  assert.equal(launched.code, 0, launched.stderr);
  const id = launched.stdout.trim();
  const page = dash.tab.page;
  await page.goto(`${dash.server.url}/dashboard/requests/${id}`);
  const log = page.locator('#log');
  await log.locator('.log-line').first().waitFor({ timeout: 60_000 });

  // Mid-stream the page still answers: a search is typed and counted while chunks keep arriving (a term
  // in no line, so the view keeps following instead of jumping to a match).
  await page.locator('#search').fill('no such text');
  await page.locator('#matches', { hasText: '0 lines' }).waitFor({ timeout: 30_000 });
  const midStream = await page.locator('#log-state').innerText();
  console.log(`# search answered while the log state was: ${midStream}`);
  await page.locator('#search').fill('');

  await page.locator('#log-state', { hasText: 'ended: SUCCEEDED' }).waitFor({ timeout: 150_000 });
  await log.getByText('the-end').waitFor({ timeout: 10_000 });
  const inView = await log.evaluate((el) => {
    const last = [...el.querySelectorAll('.log-line')].find((l) => l.textContent === 'the-end');
    if (!last) return false;
    const a = last.getBoundingClientRect();
    const b = el.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  });
  assert.equal(inView, true, 'followed: the last line is in view');
  // Only the lines in view are in the DOM, however long the log.
  assert.ok((await log.locator('.log-line').count()) < 200, 'the DOM holds a window of lines');
  assert.ok((await log.locator('.ansi-fg-2').count()) > 0, 'coloured');

  const last = `line ${String(bigLogLines(MB)).padStart(7, '0')}`;
  await page.locator('#search').fill(last);
  await page.locator('#matches', { hasText: '1 line (1/1)' }).waitFor({ timeout: 30_000 });
  await log.getByText(last).waitFor();
  await shot(page, 'request-50mb-log');
  assert.deepEqual(dash.tab.errors, []);
});
