// Drives the dashboard in Chromium: the callbacks passed to page.evaluate run in the page, so DOM types apply here.
/// <reference lib="dom" />
// The dashboard's Infra page on the lab, in Chromium: the SSH pool's hosts with the cluster holding each
// (shown without reloading when a launch takes a host), Slurm's partitions with their nodes' states and
// GRES, and the accelerators across them. Screenshot: .test-artifacts/dashboard/infra-lab.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newTab, shot, type Tab } from '../dashboard/browser';
import { disposeWithWork, runCli } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';
import { lab, slurmConfigYaml, writePools } from './lab';

describe('the dashboard Infra page on the lab', () => {
  let server: TestServer;
  let browser: Browser;
  let tab: Tab;
  const cli = (...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });

  before(async () => {
    // The infra suite runs on its own on a fresh machine: the browser the dashboard suite installs may be missing.
    if (!process.env.SKYDECK_CHROMIUM && !existsSync('/usr/bin/chromium')) execFileSync('bash', [join(__dirname, '../../scripts/apt-install.sh'), 'chromium'], { stdio: 'inherit' });
    const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
    writePools(home);
    writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
    server = await startServer({ home });
    browser = await launchBrowser();
    tab = await newTab(browser, { viewport: { width: 1280, height: 1100 } });
  });
  after(async () => {
    await browser?.close();
    if (server) await disposeWithWork(server);
  });

  it('shows pool hosts and who holds them, live; Slurm partitions with node states and GRES; accelerators', async () => {
    const link = await cli('dashboard', '--url');
    assert.equal(link.code, 0, link.stderr);
    const page = tab.page;
    await page.goto(link.stdout.trim());
    await page.goto(`${server.url}/dashboard/infra`);

    const pool = page.getByRole('table', { name: 'Nodes of ssh/lab' });
    for (const host of lab.sshHosts) await pool.locator(`tr[data-node="${host}"]`, { hasText: 'free' }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('tr[data-infra="ssh/lab"]').innerText(), new RegExp(`enabled\\s+${lab.sshHosts.length} of ${lab.sshHosts.length} usable`));

    const gpu = page.getByRole('table', { name: 'Nodes of slurm/gpu' }).locator(`tr[data-node="${lab.slurmGpuNode}"]`);
    await gpu.waitFor();
    assert.match(await gpu.innerText(), /gpu:t4:2[\s\S]*(idle|mix|alloc)[\s\S]*T4:2/);
    const debug = page.getByRole('table', { name: 'Nodes of slurm/debug' });
    await debug.locator('tr[data-node="n1"]').waitFor();
    assert.match(await debug.locator('tr[data-node="n1"]').innerText(), /(idle|mix|alloc)/);
    assert.match(await page.locator('tr[data-accelerator="T4@slurm/gpu"]').innerText(), /T4\s+slurm\/gpu\s+2\s+1 of 1\s+2/);

    // A launch from the CLI takes a pool host: the page shows who holds it without a reload.
    const launched = await cli('launch', '-c', 'dash-ssh', '-y', '-d', '--infra', 'ssh/lab', '--', 'sleep 120');
    assert.equal(launched.code, 0, launched.stderr);
    const held = pool.locator('tr[data-node]', { has: page.getByRole('link', { name: 'dash-ssh' }) });
    await held.waitFor({ timeout: 10_000 });
    assert.equal(await held.count(), 1, 'one host holds the 1-node cluster');
    assert.match(await page.locator('tr[data-infra="ssh/lab"]').innerText(), new RegExp(`${lab.sshHosts.length - 1} of ${lab.sshHosts.length} usable`));
    await shot(page, 'infra-lab');
    assert.deepEqual(tab.errors, []);
    assert.equal((await cli('down', 'dash-ssh', '-y')).code, 0);
    await pool.getByRole('link', { name: 'dash-ssh' }).waitFor({ state: 'detached', timeout: 15_000 });
  });
});
