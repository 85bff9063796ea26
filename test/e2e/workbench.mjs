// Driving VS Code's workbench (code-server) in Debian's Chromium with playwright-core: what the VS Code
// tests share (test/e2e/ui.test.mjs, test/infra/vscode-*.test.ts). Types: workbench.d.mts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** A headless Chromium with its own profile folder; close() removes the folder too. */
export async function launchWorkbenchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-e2e-chrome-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROME ?? process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Popups allowed: Open Dashboard asks the server for its one-time link before it opens it, by which time a
    // browser no longer counts the key press as the gesture that allows a new tab (a browser shows it as blocked).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-popup-blocking'],
    viewport: { width: 1500, height: 950 },
  });
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the workbench at `url`, then the SkyDeck view, and waits until the extension says it is connected. */
export async function openSkyDeck(page, url) {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const icon = page.locator('.part.activitybar .action-item a[aria-label^="SkyDeck"]');
  await icon.waitFor({ timeout: 60_000 });
  await icon.click();
  await page.locator('.part.sidebar .pane-header', { hasText: 'Requests' }).waitFor();
  await page.locator('.part.statusbar a[aria-label^="SkyDeck connected"]').waitFor();
}

export const quickInput = (page) => page.locator('.quick-input-widget .quick-input-box input');

/** Runs a command from the palette by its full title ("SkyDeck: Launch Task..."). */
export async function runCommand(page, title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInput(page).fill('>' + title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Answers the quick pick that is open now: types `text`, waits for a row showing `row`, accepts it. */
export async function answerQuickPick(page, text, row = text) {
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInput(page).fill(text);
  // Enter accepts the focused row; wait until filtering has put the wanted one there.
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: row }).waitFor();
  await page.keyboard.press('Enter');
}

/**
 * `SkyDeck: Open Terminal` on `cluster`: waits for its terminal tab and for the shell's prompt to match
 * `prompt`, focuses it. Returns the tab and the screen, whose text is the terminal's (the DOM renderer,
 * gpuAcceleration off in code-server.sh, keeps it in .xterm-rows).
 */
export async function openClusterTerminal(page, cluster, prompt = /workdir/) {
  await runCommand(page, 'SkyDeck: Open Terminal');
  await answerQuickPick(page, cluster);
  const tab = page.locator('.part.panel .terminal-tabs-entry, .part.panel .single-terminal-tab', { hasText: `SkyDeck: ${cluster}` }).first();
  await tab.waitFor();
  const screen = page.locator('.part.panel .terminal-wrapper.active .xterm-rows');
  await screen.locator('div', { hasText: prompt }).first().waitFor();
  await page.locator('.part.panel .terminal-wrapper.active .xterm').click();
  return { tab, screen };
}

/** Types a line into the focused terminal and presses Enter. */
export async function typeLine(page, line) {
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}
