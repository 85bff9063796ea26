// Runs the mocha tests inside code-server's extension host: the workbench URL's payload names the
// extension under development and the tests' entry; when run() settles, the workbench calls
// window.codeAutomationExit(code), which this script exposes from Playwright.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.CS_BASE;
const devPath = process.env.EXT_DEV_PATH;
const testsPath = process.env.EXT_TESTS_PATH;
const folder = process.env.WS_DIR;
if (!base || !devPath || !testsPath || !folder) throw new Error('CS_BASE, EXT_DEV_PATH, EXT_TESTS_PATH and WS_DIR are required');
const host = new URL(base).host;
const payload = [
  ['extensionDevelopmentPath', `vscode-remote://${host}${devPath}`],
  ['extensionTestsPath', `vscode-remote://${host}${testsPath}`],
];
const url = `${base}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-exthost-chrome-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 'timeout';
try {
  const page = context.pages()[0] ?? (await context.newPage());
  let settle;
  const exited = new Promise((resolve) => (settle = resolve));
  await page.exposeFunction('codeAutomationExit', (exitCode) => settle(exitCode));
  await page.exposeFunction('codeAutomationLog', (_type, args) => console.log(...args));
  // The extension host's console reaches the page console; mocha's spec reporter lines are what matter.
  page.on('console', (m) => {
    const text = m.text();
    if (/✔|✓|passing|failing|pending|^\s+\d+\) |activate\(\) took|Error|^\s{2,}\S/.test(text)) console.log('[exthost]', text);
  });
  const t0 = Date.now();
  await page.goto(url);
  code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 180_000))]);
  console.log(`extension host tests finished: exit code ${code} after ${Date.now() - t0} ms`);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(code === 0 ? 0 : 1);
