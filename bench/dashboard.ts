// `npm run bench:dashboard`: the dashboard's figures on this machine. Time to first render of the Requests
// page with 10,000 finished requests stored (navigation start until the first row is drawn, and until
// all 10,000 are loaded and counted), median of 5 fresh page loads in Debian's Chromium; a 50 MB log
// followed in the request page (until its last line is drawn; the longest and the total time the page's
// main thread was blocked by long tasks meanwhile; the JS heap at the end); and the bundle's size,
// minified and gzipped as the server sends it. Writes bench/results/dashboard.json. Asserts nothing.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { bigLogCommand } from '../test/helpers/big-log';
import { runCli } from '../test/helpers/cli';
import { startServer, type TestServer } from '../test/helpers/server';
import { seedHistory } from './lib/history-seed';
import { describeMachine } from './lib/machine';

const STORED = 10_000;
const RUNS = 5;
const BIG_LOG_MB = 50;

interface BigLogFigures {
  /** Navigation start until the log's last line is drawn and the request shown SUCCEEDED. */
  followedToEndMs: number;
  /** Long tasks (main thread blocked over 50 ms) while it streamed: the longest and their sum. */
  longestTaskMs: number;
  longTasksTotalMs: number;
  jsHeapMiB: number;
}

/** A job writes BIG_LOG_MB of coloured lines; the page follows its request's log from the start. */
async function followBigLog(server: TestServer, browser: Browser): Promise<BigLogFigures> {
  const launched = await runCli({ home: server.home, url: server.url }, ['launch', '-c', 'big-log', '-y', '--async', bigLogCommand(BIG_LOG_MB)]);
  if (launched.code !== 0) throw new Error(launched.stderr);
  const { body } = await server.json<{ path: string }>('/api/sessions/links', { method: 'POST' });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    const seen = { longest: 0, total: 0 };
    (window as unknown as { longTasks: typeof seen }).longTasks = seen;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        seen.longest = Math.max(seen.longest, e.duration);
        seen.total += e.duration;
      }
    }).observe({ type: 'longtask', buffered: true });
  });
  const page = await context.newPage();
  await page.goto(server.url + body.path);
  await page.goto(`${server.url}/dashboard/requests/${launched.stdout.trim()}`);
  await page.locator('#log-state', { hasText: 'ended: SUCCEEDED' }).waitFor({ timeout: 300_000 });
  await page.locator('#log').getByText('the-end').waitFor({ timeout: 60_000 });
  const figures = await page.evaluate(() => ({
    at: performance.now(),
    tasks: (window as unknown as { longTasks: { longest: number; total: number } }).longTasks,
    heap: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
  }));
  await context.close();
  return { followedToEndMs: figures.at, longestTaskMs: figures.tasks.longest, longTasksTotalMs: figures.tasks.total, jsHeapMiB: figures.heap / 2 ** 20 };
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const sizes = Object.fromEntries(
    ['dashboard.js', 'dashboard.css'].map((f) => {
      const body = readFileSync(path.join(root, 'dist/dashboard', f));
      return [f, { bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length }];
    }),
  );
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-dashboard-'));
  seedHistory(path.join(home, 'server'), STORED);
  const server = await startServer({ home });
  const browser = await chromium.launch({ executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const firstRow: number[] = [];
  const allCounted: number[] = [];
  let bigLog: BigLogFigures | undefined;
  try {
    for (let run = 0; run < RUNS; run++) {
      const { body } = await server.json<{ path: string }>('/api/sessions/links', { method: 'POST' });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(server.url + body.path);
      await page.locator('[data-request-id]').first().waitFor({ timeout: 60_000 });
      const shownAt = await page.evaluate(() => performance.now());
      await page.locator('.count', { hasText: `${STORED.toLocaleString('en-US')} shown` }).waitFor({ timeout: 60_000 });
      const countedAt = await page.evaluate(() => performance.now());
      firstRow.push(shownAt);
      allCounted.push(countedAt);
      await context.close();
    }
    bigLog = await followBigLog(server, browser);
  } finally {
    await browser.close();
    await server.dispose();
    rmSync(home, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const results = {
    machine: describeMachine(),
    storedRequests: STORED,
    firstRowMs: { median: median(firstRow), runs: firstRow },
    allLoadedMs: { median: median(allCounted), runs: allCounted },
    bigLog: { megabytes: BIG_LOG_MB, ...bigLog! },
    bundle: sizes,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/dashboard.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`Requests page with ${STORED.toLocaleString()} stored requests (median of ${RUNS} loads, from navigation start):`);
  console.log(`  first row drawn   ${results.firstRowMs.median.toFixed(0)} ms`);
  console.log(`  all ${STORED.toLocaleString()} loaded ${results.allLoadedMs.median.toFixed(0)} ms`);
  const b = results.bigLog;
  console.log(`A ${BIG_LOG_MB} MB log followed in the request page: last line drawn ${b.followedToEndMs.toFixed(0)} ms after navigation;`);
  console.log(`  longest main-thread stall ${b.longestTaskMs.toFixed(0)} ms, ${b.longTasksTotalMs.toFixed(0)} ms of long tasks in all; JS heap ${b.jsHeapMiB.toFixed(0)} MiB`);
  for (const [f, s] of Object.entries(sizes)) console.log(`  ${f}: ${(s.bytes / 1024).toFixed(1)} KiB minified, ${(s.gzipBytes / 1024).toFixed(1)} KiB gzipped`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
