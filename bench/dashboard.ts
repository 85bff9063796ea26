// `npm run bench:dashboard`: the dashboard's figures on this machine. Time to first render of the Requests
// page with 10,000 finished requests stored (navigation start until the first row is drawn, and until
// all 10,000 are loaded and counted), median of 5 fresh page loads in Debian's Chromium; and the bundle's
// size, minified and gzipped as the server sends it. Writes bench/results/dashboard.json. Asserts nothing.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../test/helpers/server';
import { seedHistory } from './lib/history-seed';
import { describeMachine } from './lib/machine';

const STORED = 10_000;
const RUNS = 5;

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
    bundle: sizes,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/dashboard.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`Requests page with ${STORED.toLocaleString()} stored requests (median of ${RUNS} loads, from navigation start):`);
  console.log(`  first row drawn   ${results.firstRowMs.median.toFixed(0)} ms`);
  console.log(`  all ${STORED.toLocaleString()} loaded ${results.allLoadedMs.median.toFixed(0)} ms`);
  for (const [f, s] of Object.entries(sizes)) console.log(`  ${f}: ${(s.bytes / 1024).toFixed(1)} KiB minified, ${(s.gzipBytes / 1024).toFixed(1)} KiB gzipped`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
