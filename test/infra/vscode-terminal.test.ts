// Drives VS Code in Chromium: the callbacks passed to page.evaluate run in the page, so DOM types apply here.
/// <reference lib="dom" />
// VS Code (code-server, the packaged .vsix) on the lab: `SkyDeck: Open Terminal` on a cluster of the SSH
// pool opens a shell on the pool host through the API server, and `hostname -I` there prints the host's
// own address (its network namespace's), not this machine's. Screenshot: .test-artifacts/vscode-infra/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchWorkbenchBrowser, openClusterTerminal, openSkyDeck, typeLine } from '../e2e/workbench.mjs';
import { disposeWithWork } from '../helpers/cli';
import { startCodeServer, type CodeServer } from '../helpers/code-server';
import { startServer, type TestServer } from '../helpers/server';
import { lab, writePools } from './lab';

const SHOTS = join(__dirname, '../../.test-artifacts/vscode-infra');

describe('VS Code on the lab', () => {
  let server: TestServer;
  let codeServer: CodeServer | undefined;
  let browser: Awaited<ReturnType<typeof launchWorkbenchBrowser>> | undefined;
  let page: Page;

  before(async () => {
    // Chromium and code-server: installed by scripts/e2e/setup.sh, which test/infra/run.sh runs first.
    mkdirSync(SHOTS, { recursive: true });
    const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
    writePools(home);
    server = await startServer({ home });
    codeServer = await startCodeServer(server);
    browser = await launchWorkbenchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await codeServer?.stop();
    if (server) await disposeWithWork(server);
  });

  it('Open Terminal on an SSH pool cluster runs `hostname -I` on its host and shows the host\'s address', async () => {
    const id = await server.submit('launch', { clusterName: 'vsc-ssh', task: { resources: { infra: 'ssh/lab' }, run: 'true' } });
    const launched = await server.waitFor(id, 90);
    assert.equal(launched.status, 'SUCCEEDED', JSON.stringify(launched.error));
    const { body } = await server.json<{ clusters: { name: string; nodes: { ip?: string; host?: string }[] }[] }>('/api/clusters');
    const ip = body.clusters.find((c) => c.name === 'vsc-ssh')?.nodes[0]?.ip;
    assert.ok(ip && lab.sshHosts.includes(ip), `the cluster's node is a lab host (${JSON.stringify(body)})`);

    await openSkyDeck(page, codeServer!.url);
    await page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster vsc-ssh UP"]').waitFor();
    const { tab, screen } = await openClusterTerminal(page, 'vsc-ssh');
    await typeLine(page, 'echo "addresses: $(hostname -I)"');
    // The host's address, as a word of the line (10.0.0.1 must not pass for 10.0.0.12).
    await screen.locator('div', { hasText: new RegExp(`^addresses: (.*\\s)?${ip.replace(/\./g, '\\.')}(\\s|$)`) }).first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'terminal-on-ssh-node.png') });
    await typeLine(page, 'exit');
    await tab.waitFor({ state: 'detached' });
  });
});
