// Debian's Chromium driven by playwright-core, for the dashboard tests: one browser per test file, a fresh
// context (cookies) per test, and screenshots into .test-artifacts/dashboard/ for people to look at.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { disposeWithWork, type CliTarget } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

export const ARTIFACTS = path.resolve(__dirname, '../../.test-artifacts/dashboard');
const CHROMIUM = process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (CSP violations show up here). */
  errors: string[];
}

export async function newTab(browser: Browser, options: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number }; isMobile?: boolean } = {}): Promise<Tab> {
  const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: options.viewport ?? { width: 1280, height: 800 }, isMobile: options.isMobile, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/**
 * A local server, the browser and a first tab for one test file: started before its tests, closed after
 * them (the server with the work it ran) even when they fail.
 */
export function localDashboard(): { readonly server: TestServer; readonly target: CliTarget; readonly browser: Browser; readonly tab: Tab } {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let tab: Tab | undefined;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    tab = await newTab(browser);
  });
  after(async () => {
    await browser?.close();
    if (server) await disposeWithWork(server);
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the dashboard fixture is used before its before() hook ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get target() {
      const { home, url } = started(server);
      return { home, url };
    },
    get browser() {
      return started(browser);
    },
    get tab() {
      return started(tab);
    },
  };
}
