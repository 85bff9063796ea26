// The SkyDeck extension in a real VS Code (code-server) in Debian's Chromium, against the real API server.
// Started by test/e2e/run.sh, which provides CS_URL (workbench URL with the workspace), API_URL, SHOTS
// (screenshot folder) and CHROME. Each step leaves a screenshot named after it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import * as workbench from './workbench.mjs';

const CS_URL = process.env.CS_URL;
/** The API server's own URL, for the CLI (run.sh exports SKYDECK_HOME, whose local token the CLI reads). */
const API_URL = process.env.API_URL;
const SHOTS = process.env.SHOTS ?? path.join(process.cwd(), '.test-artifacts', 'e2e', 'shots');
assert.ok(CS_URL, 'CS_URL must name the code-server workbench');
fs.mkdirSync(SHOTS, { recursive: true });

let browser;
let context;
let page;

before(async () => {
  browser = await workbench.launchWorkbenchBrowser();
  ({ context, page } = browser);
});

// A failed test leaves a picture of the screen it gave up on.
afterEach(async (t) => {
  if (t.passed === false && page) await page.screenshot({ path: path.join(SHOTS, `failed-${t.name.replace(/\W+/g, '-').slice(0, 80)}.png`) }).catch(() => {});
});

after(async () => {
  await browser?.close();
});

const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
/** Runs the skydeck CLI against the API server to its end (run.sh exports SKYDECK_HOME, whose local token it reads). */
function cli(...args) {
  assert.ok(API_URL, 'run.sh sets API_URL');
  const run = spawnSync(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, SKYDECK_API_SERVER_ENDPOINT: API_URL }, encoding: 'utf8', timeout: 90_000 });
  assert.equal(run.status, 0, `skydeck ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}
const sidebarRow = (text) => page.locator(`.part.sidebar .monaco-list-row[aria-label*="${text}"]`).first();
const runCommand = (title) => workbench.runCommand(page, title);
const answerQuickPick = (text, row) => workbench.answerQuickPick(page, text, row);

/** Launches a workspace task file onto a cluster through the palette, the pickers and the confirmation. */
async function launchFromPalette(taskFile, cluster, shotPrefix) {
  await runCommand('SkyDeck: Launch Task...');
  await answerQuickPick(taskFile);
  await answerQuickPick(cluster);
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor();
  const text = (await dialog.innerText()).replace(/\u00a0/g, ' ');
  assert.match(text, new RegExp(`on ${cluster}\\?`));
  assert.match(text, /Resources: local/);
  if (shotPrefix) await shot(`${shotPrefix}-confirm`);
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/**
 * Runs a context-menu action on a tree row and waits for the dialog it opens. Retried: a live refresh of the
 * tree (a cluster event) may redraw the row and close a menu that just opened.
 */
async function contextMenuDialog(row, action) {
  const dialog = page.locator('.monaco-dialog-box');
  for (let attempt = 1; ; attempt++) {
    try {
      await row.click({ button: 'right' });
      // The workbench's menus act on the focused item: hover it, then Enter (a synthetic click can be lost).
      await page.locator('.monaco-menu .action-menu-item', { hasText: action }).hover({ timeout: 5_000 });
      await page.keyboard.press('Enter');
      await dialog.waitFor({ timeout: 5_000 });
      return dialog;
    } catch (err) {
      await shot(`context-menu-${action.replace(/\W+/g, '-')}-attempt-${attempt}`);
      if (attempt === 3) throw err;
      await page.keyboard.press('Escape');
    }
  }
}

/** Waits until the output panel shows the channel whose name contains `name`. */
async function waitForChannel(name) {
  const picker = page.locator('.part.panel select.monaco-select-box').first();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const shown = await picker.evaluate((s) => s.options[s.selectedIndex]?.text ?? '').catch(() => '');
    if (shown.includes(name)) return;
    if (Date.now() > deadline) throw new Error(`the output panel shows "${shown}", not a channel named like "${name}"`);
    await page.waitForTimeout(100);
  }
}

/** The text of the output panel's editor (its spaces are non-breaking). */
async function outputText() {
  return (await page.locator('.part.panel .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
}

test('the SkyDeck view opens and connects to the API server', async () => {
  const t0 = Date.now();
  // Connected: the status bar names the user (openSkyDeck waits for it), and the welcome view offers to launch.
  await workbench.openSkyDeck(page, CS_URL);
  await page.locator('.part.sidebar .pane-header', { hasText: 'Clusters' }).waitFor();
  await page.locator('.part.sidebar .welcome-view-content', { hasText: 'No pending or running requests' }).waitFor();
  console.log(`# workbench, view and connection ready after ${Date.now() - t0} ms`);
  // Finished requests stay visible from here on, so SUCCEEDED and CANCELLED can be seen in the tree.
  // Title-bar actions show while the pointer is over the view's header.
  const header = page.locator('.part.sidebar .pane-header', { hasText: 'Requests' });
  await header.hover();
  await header.locator('a[aria-label="Show All Requests"]').click();
  await header.locator('a[aria-label="Show Only Ongoing Requests"]').waitFor({ state: 'attached' });
  await page.locator('.part.sidebar .welcome-view-content', { hasText: 'No requests yet' }).waitFor();
  await shot('01-view-connected');
});

test('a task launched from the command palette appears, runs, succeeds, and its log is in the output channel', async () => {
  await launchFromPalette('hello.yaml', 'e2e-hello', '02-launch');
  await sidebarRow('launch e2e-hello RUNNING').waitFor();
  await shot('03-request-running');
  await waitForChannel('SkyDeck: launch e2e-hello');
  await page.locator('.part.panel .view-lines', { hasText: 'hello from skydeck e2e 1' }).waitFor();
  await sidebarRow('launch e2e-hello SUCCEEDED').waitFor({ timeout: 60_000 });
  await page.locator('.part.panel .view-lines', { hasText: 'ended: SUCCEEDED' }).waitFor();
  const text = await outputText();
  for (let i = 1; i <= 4; i++) assert.match(text, new RegExp(`hello from skydeck e2e ${i}`));
  await shot('04-request-succeeded-with-log');
  // The cluster the launch made shows in the Clusters view.
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-hello UP"]').waitFor();
});

test('a long-running request is cancelled from its row in the tree', async () => {
  await launchFromPalette('sleepy.yaml', 'e2e-long');
  const row = sidebarRow('launch e2e-long RUNNING');
  await row.waitFor({ timeout: 60_000 });
  await page.locator('.part.panel .view-lines', { hasText: 'sleepy started' }).waitFor();
  await row.hover();
  await shot('05-long-request-running');
  await row.locator('.actions a[aria-label="Cancel Request"]').click();
  const t0 = Date.now();
  await sidebarRow('launch e2e-long CANCELLED').waitFor();
  console.log(`# cancel reflected in the tree after ${Date.now() - t0} ms`);
  await shot('06-long-request-cancelled');
});

test('the Launch form checks its fields as you type and launches', async () => {
  await runCommand('SkyDeck: Open Launch Form');
  await page.locator('.tabs-container .tab', { hasText: 'SkyDeck: Launch' }).waitFor();
  const form = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await form.locator('#launch').waitFor();
  await form.locator('vscode-option', { hasText: 'hello.yaml' }).first().waitFor({ state: 'attached' });
  await form.locator('#clusterName input').fill('Not_Valid');
  await form.locator('.issue[data-for="clusterName"]', { hasText: 'lowercase' }).waitFor();
  await form.locator('#cpus input').fill('lots');
  await form.locator('.issue[data-for="cpus"]', { hasText: 'expected a number' }).waitFor();
  await shot('07-launch-form-validation');
  await form.locator('#cpus input').fill('1');
  await form.locator('#clusterName input').fill('e2e-form');
  await form.locator('.issue[data-for="clusterName"]', { hasText: /^$/ }).waitFor();
  await form.locator('#launch').click();
  await form.locator('#result', { hasText: 'Submitted' }).waitFor();
  await shot('08-launch-form-submitted');
  await sidebarRow('launch e2e-form').waitFor();
  await sidebarRow('launch e2e-form SUCCEEDED').waitFor({ timeout: 60_000 });
  await shot('09-form-request-succeeded');
});

/** Picks a task file in the Launch form's select as a user does: opens its list and clicks the file. */
async function chooseTaskFile(form, label) {
  await form.locator('#taskFile').click();
  await form.locator('#taskFile li.option', { hasText: label }).click();
  await form.locator('#taskFile li.option.selected', { hasText: label }).waitFor({ state: 'attached' });
}

test("the Launch form marks the field the server refused, with the server's reason", async () => {
  // The form the previous test filled is still open; its list of clusters predates e2e-form.
  const form = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await chooseTaskFile(form, 'on-slurm.yaml');
  await form.locator('#clusterName input').fill('e2e-refused');
  // Opening the form again while it shows refreshes its choices, which arrive after the entries were made
  // (the clusters now name e2e-form): they must keep the entries (a refresh once reset them to the first file).
  await runCommand('SkyDeck: Open Launch Form');
  await form.locator('#clusters-hint', { hasText: 'e2e-form (' }).waitFor();
  assert.equal(await form.locator('#clusterName').evaluate((field) => field.value), 'e2e-refused');
  assert.match(await form.locator('#taskFile').evaluate((select) => select.value), /on-slurm\.yaml$/);
  await form.locator('#launch').click();
  // The task file is valid, so only the server can say no: infra it has not enabled, at resources.infra.
  await form.locator('.issue[data-for="infra"]', { hasText: "resources.infra: infra 'slurm' is not enabled on this server" }).waitFor();
  await form.locator('#infra[invalid]').waitFor({ state: 'attached' });
  await form.locator('#result', { hasText: 'Not launched' }).waitFor();
  await shot('08b-launch-form-server-refused-field');
  await chooseTaskFile(form, 'hello.yaml');
});

test('the Launch form keeps its entries when its tab is hidden behind another editor and shown again', async () => {
  // VS Code discards a hidden webview's page and loads it afresh when its tab comes back: the form must
  // restore what was entered from its webview state, and the init that follows the reload must keep it.
  const form = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await chooseTaskFile(form, 'sleepy.yaml');
  await form.locator('#clusterName input').fill('e2e-kept');
  await form.locator('#cpus input').fill('lots');
  await form.locator('.issue[data-for="cpus"]', { hasText: 'expected a number' }).waitFor();
  await form.locator('#envs textarea').fill('A=1\nB=2');
  // A mark on this page's window: gone after the tab comes back proves the page was loaded again.
  await form.locator('body').evaluate(() => (globalThis.e2eBeforeHide = true));
  await page.keyboard.press('Control+P');
  await answerQuickPick('hello.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'hello.yaml' }).waitFor();
  await page.locator('.tabs-container .tab', { hasText: 'SkyDeck: Launch' }).click();
  await page.locator('.tabs-container .tab.active', { hasText: 'SkyDeck: Launch' }).waitFor();
  // The init of the reloaded page has arrived once the clusters hint is written.
  await form.locator('#clusters-hint', { hasText: 'clusters' }).waitFor();
  await shot('08c-launch-form-shown-again');
  assert.equal(await form.locator('body').evaluate(() => globalThis.e2eBeforeHide), undefined, 'the page was not reloaded');
  assert.equal(await form.locator('#clusterName').evaluate((field) => field.value), 'e2e-kept');
  assert.equal(await form.locator('#cpus').evaluate((field) => field.value), 'lots');
  assert.equal(await form.locator('#envs').evaluate((field) => field.value), 'A=1\nB=2');
  assert.match(await form.locator('#taskFile').evaluate((select) => select.value), /sleepy\.yaml$/);
  // The issue of a field that was edited shows again too.
  await form.locator('.issue[data-for="cpus"]', { hasText: 'expected a number' }).waitFor();
  await form.locator('#cpus input').fill('');
});

test('a request row opens its details with status, timeline and log', async () => {
  await sidebarRow('launch e2e-hello SUCCEEDED').click();
  await page.locator('.tabs-container .tab', { hasText: 'e2e-hello' }).waitFor();
  const details = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('#active-frame');
  await details.locator('#status', { hasText: 'SUCCEEDED' }).waitFor();
  await details.locator('#log', { hasText: 'hello from skydeck e2e 4' }).waitFor();
  await details.locator('#search input').fill('e2e 3');
  await details.locator('#matches', { hasText: '1 match' }).waitFor();
  await shot('10-request-details');
});

/** Opens a request's details from its row in the tree; returns the page of the panel, whose tab names `tabText`. */
async function openDetailsFromRow(row, tabText) {
  // A live refresh of the tree can redraw the row under the click (seen once under load: selected, not opened).
  const tab = page.locator('.tabs-container .tab.active', { hasText: tabText });
  // A hover left over the view's title bar would take the click.
  await page.mouse.move(5, 5);
  for (let attempt = 1; ; attempt++) {
    await row.click();
    if (await tab.waitFor({ timeout: 10_000 }).then(() => true, () => false)) break;
    if (attempt === 3) throw new Error("the request's details did not open from its row");
  }
  return page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('#active-frame');
}

test("the Request details panel keeps its search and the reader's place in the log when its tab is hidden and shown again", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-e2e-longlog-'));
  try {
    const file = path.join(dir, 'longlog.yaml');
    fs.writeFileSync(file, 'name: longlog\nresources:\n  infra: local\nrun: |\n  for i in $(seq 1 2000); do echo "log line $i"; done\n');
    cli('launch', file, '-c', 'e2e-longlog', '-y');
    const details = await openDetailsFromRow(sidebarRow('launch e2e-longlog SUCCEEDED'), 'e2e-longlog');
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'e2e-longlog' });
    await details.locator('#log[data-ended="SUCCEEDED"]').waitFor({ state: 'attached' });
    // Searching shows the match (mid-log) and stops following: the reader is there, not at the end.
    await details.locator('#search input').fill('line 1500');
    await details.locator('#matches', { hasText: '1 match' }).waitFor();
    const line1500 = details.locator('#log .log-line', { hasText: /^log line 1500$/ });
    await line1500.waitFor();
    const scrollTop = await details.locator('#log').evaluate((log) => log.scrollTop);
    await details.locator('body').evaluate(() => (globalThis.e2eBeforeHide = true));
    await page.keyboard.press('Control+P');
    await answerQuickPick('hello.yaml');
    await page.locator('.tabs-container .tab.active', { hasText: 'hello.yaml' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: 'e2e-longlog' }).click();
    await tab.waitFor();
    await details.locator('#log[data-ended="SUCCEEDED"]').waitFor({ state: 'attached' });
    await shot('10b-request-details-shown-again');
    assert.equal(await details.locator('body').evaluate(() => globalThis.e2eBeforeHide), undefined, 'the page was not reloaded');
    assert.equal(await details.locator('#search').evaluate((field) => field.value), 'line 1500');
    await details.locator('#matches', { hasText: '1 match' }).waitFor();
    assert.equal(await details.locator('#follow').evaluate((box) => box.checked), false);
    await line1500.waitFor();
    const restoredTop = await details.locator('#log').evaluate((log) => log.scrollTop);
    assert.ok(Math.abs(restoredTop - scrollTop) < 40, `the log is scrolled to ${restoredTop}, where the reader was at ${scrollTop}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    cli('down', 'e2e-longlog', '-y');
  }
});

test('a task file offers Launch on SkyDeck as a CodeLens, which launches on an existing cluster', async () => {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await answerQuickPick('hello.yaml');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Launch on SkyDeck' });
  await lens.waitFor();
  await page.locator('.editor-actions a[aria-label="Launch on SkyDeck"]').waitFor();
  await shot('11-task-file-codelens');
  await lens.click();
  await answerQuickPick('e2e-hello');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor();
  assert.match((await dialog.innerText()).replace(/\u00a0/g, ' '), /Cluster: e2e-hello \(existing, UP/);
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="launch e2e-hello SUCCEEDED"]').nth(1).waitFor({ timeout: 60_000 });
});

test("a cluster's jobs show as its children, and a job's log opens from its row", async () => {
  const cluster = page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-hello"]');
  await cluster.click();
  const job = page.locator('.part.sidebar .monaco-list-row[aria-label^="job 1 hello on e2e-hello SUCCEEDED"]');
  await job.waitFor();
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="job 2 hello on e2e-hello"]').waitFor();
  await job.hover();
  await job.locator('.actions a[aria-label="View Job Logs"]').click();
  await waitForChannel('job 1 logs e2e-hello');
  await page.locator('.part.panel .view-lines', { hasText: 'hello from skydeck e2e 4' }).waitFor();
  await shot('12-job-log');
});

test('a task file with a misspelt key is not submitted; the message points at the key', async () => {
  await runCommand('SkyDeck: Launch Task...');
  await answerQuickPick('typo.yaml');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'did you mean cpus' });
  await toast.waitFor();
  assert.match((await toast.innerText()).replace(/\u00a0/g, ' '), /typo\.yaml:4: resources\.cpu: unknown key/);
  await shot('13-validation-error');
  await toast.getByRole('button', { name: 'Go to Problem' }).click();
  await page.locator('.tabs-container .tab.active', { hasText: 'typo.yaml' }).waitFor();
  await page.locator('.part.statusbar', { hasText: 'Ln 4' }).waitFor();
});

test('several requests are cancelled at once from the palette, after a confirmation', async () => {
  await launchFromPalette('sleepy.yaml', 'e2e-multi-a');
  await launchFromPalette('sleepy.yaml', 'e2e-multi-b');
  await sidebarRow('launch e2e-multi-a RUNNING').waitFor({ timeout: 60_000 });
  await sidebarRow('launch e2e-multi-b RUNNING').waitFor({ timeout: 60_000 });
  await runCommand('SkyDeck: Cancel Request...');
  for (const cluster of ['e2e-multi-a', 'e2e-multi-b']) {
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: cluster });
    await row.click();
    await page.locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: cluster }).waitFor();
  }
  await shot('14-cancel-several-pick');
  await page.keyboard.press('Enter');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor();
  assert.match((await dialog.innerText()).replace(/\u00a0/g, ' '), /Cancel 2 requests\?/);
  await dialog.getByRole('button', { name: 'Cancel Requests' }).click();
  await sidebarRow('launch e2e-multi-a CANCELLED').waitFor();
  await sidebarRow('launch e2e-multi-b CANCELLED').waitFor();
  await shot('15-several-cancelled');
});

test('the Request details panel cancels a running request and shows it CANCELLED', async () => {
  await launchFromPalette('sleepy.yaml', 'e2e-multi-a');
  const row = sidebarRow('launch e2e-multi-a RUNNING');
  await row.waitFor({ timeout: 60_000 });
  const details = await openDetailsFromRow(row, 'e2e-multi-a');
  await details.locator('#status', { hasText: 'RUNNING' }).waitFor();
  await details.locator('#log', { hasText: 'sleepy started' }).waitFor();
  await details.locator('#cancel').click();
  await details.locator('#status', { hasText: 'CANCELLED' }).waitFor();
  await sidebarRow('launch e2e-multi-a CANCELLED').waitFor();
  await shot('16-details-cancelled');
});

test('tearing down a cluster asks first, then removes it from the view', async () => {
  const cluster = page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-long"]');
  const dialog = await contextMenuDialog(cluster, 'Tear Down Cluster');
  assert.match((await dialog.innerText()).replace(/\u00a0/g, ' '), /No pending or running request will be cancelled/);
  await shot('17-tear-down-confirm');
  await dialog.getByRole('button', { name: 'Tear Down' }).click();
  await cluster.waitFor({ state: 'detached', timeout: 60_000 });
  await sidebarRow('down e2e-long SUCCEEDED').waitFor();
  await shot('18-cluster-torn-down');
});

test('a cluster is stopped and started again from the palette, and a task is exec-ed on it', async () => {
  const clusterRow = (status) => page.locator(`.part.sidebar .monaco-list-row[aria-label^="cluster e2e-hello ${status}"]`);
  await runCommand('SkyDeck: Stop Cluster');
  await answerQuickPick('e2e-hello');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor();
  await shot('19-stop-confirm');
  await dialog.getByRole('button', { name: 'Stop' }).click();
  await clusterRow('STOPPED').waitFor({ timeout: 60_000 });
  await sidebarRow('stop e2e-hello SUCCEEDED').waitFor();
  await shot('20-cluster-stopped');

  await runCommand('SkyDeck: Start Cluster');
  await answerQuickPick('e2e-hello');
  await clusterRow('UP').waitFor({ timeout: 60_000 });
  await sidebarRow('start e2e-hello SUCCEEDED').waitFor();

  await runCommand('SkyDeck: Exec Task on Cluster...');
  await answerQuickPick('e2e-hello');
  await answerQuickPick('hello.yaml');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Exec' }).click();
  await sidebarRow('exec e2e-hello SUCCEEDED').waitFor({ timeout: 60_000 });
  await shot('21-exec-succeeded');
});

test('Open Terminal on a local cluster runs a shell there with its SKYPILOT_* variables, and exit closes it', async () => {
  const { tab, screen } = await workbench.openClusterTerminal(page, 'e2e-hello');
  await workbench.typeLine(page, 'echo "nodes=$SKYPILOT_NUM_NODES rank=$SKYPILOT_NODE_RANK in $(basename $(dirname $PWD))"');
  await screen.locator('div', { hasText: 'nodes=1 rank=0 in e2e-hello' }).first().waitFor();
  await shot('22-terminal-on-cluster');
  await workbench.typeLine(page, 'exit');
  await tab.waitFor({ state: 'detached' });
});

test('the Requests view groups by cluster and by status from its title bar, and back to flat', async () => {
  const header = page.locator('.part.sidebar .pane-header', { hasText: 'Requests' });
  const group = async (choice) => {
    await header.hover();
    await header.locator('a[aria-label="Group Requests..."]').click();
    await answerQuickPick(choice);
  };
  await group('By Cluster');
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="Cluster e2e-hello: "]').waitFor();
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="Cluster e2e-form: "]').waitFor();
  await shot('23-requests-grouped-by-cluster');
  await group('By Status');
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="Status SUCCEEDED: "]').waitFor();
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="Status CANCELLED: "]').waitFor();
  await shot('24-requests-grouped-by-status');
  await group('Flat');
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="Status "]').first().waitFor({ state: 'detached' });
  await sidebarRow('exec e2e-hello SUCCEEDED').waitFor();
});

/** Replaces the whole text of the active editor, as one input (run.sh turns auto-indent off, so it stays as given). */
async function replaceEditorText(text) {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

const problemRow = (text) => page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
/** The misspelt key of editing.sky.yaml, by its place (typo.yaml, open from an earlier test, has the same problem on line 4). */
const EDITING_TYPO = /resources\.cpu: unknown key; did you mean cpus\?.*Ln 3, Col 3/;

test('a task file is checked as it is typed: problems at their keys in the CLI\'s words, cleared when fixed', async () => {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await answerQuickPick('editing.sky.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'editing.sky.yaml' }).waitFor();
  // A valid file, but for infra the server has not enabled and with an env only launch can fill.
  await replaceEditorText('name: editing\nresources:\n  cpus: 2\n  infra: slurm\nenvs:\n  TOKEN:\nrun: echo $TOKEN\n');
  await page.keyboard.press('Control+Shift+M');
  await problemRow("resources.infra: infra 'slurm' is not enabled on this server (enabled: local)").waitFor();
  await problemRow('envs.TOKEN: required env has no value; pass --env TOKEN=VALUE').waitFor();
  await page.locator('.editor-instance .squiggly-error').first().waitFor();
  await shot('25-task-file-problems-infra-and-env');
  // Fixing those clears them as the text changes; a misspelt key is what the parser says next.
  await replaceEditorText('name: editing\nresources:\n  cpu: 2\n  infra: local\nenvs:\n  TOKEN: abc\nrun: echo $TOKEN\n');
  await problemRow('is not enabled on this server').waitFor({ state: 'detached' });
  await problemRow('required env has no value').waitFor({ state: 'detached' });
  await problemRow(EDITING_TYPO).waitFor();
  await shot('25b-task-file-problem-misspelt-key');
});

/** Puts the cursor at the top of the active editor, so every line of the short task file is in view. */
async function editorToTop() {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.locator('.editor-instance .monaco-editor.focused').waitFor();
  await page.keyboard.press('Control+Home');
}

test('a hover on a task file key shows its documentation from the task schema', async () => {
  // Opening the Problems panel shrinks the editor and can scroll its first lines out of view.
  await editorToTop();
  const key = page.locator('.editor-instance .view-line span', { hasText: /^resources$/ }).first();
  await key.hover();
  const hover = page.locator('.monaco-hover', { hasText: 'What each node needs and where it may run' });
  await hover.waitFor();
  assert.match(await hover.innerText(), /resources: mapping/);
  await shot('26-task-key-hover');
  await page.mouse.move(5, 5);
});

test('the quick fix renames a misspelt key to the one it meant, and its problem clears', async () => {
  await page.keyboard.press('Escape');
  await editorToTop();
  await page.locator('.editor-instance .view-line span', { hasText: /^cpu$/ }).first().click();
  // Ctrl+. must reach the editor, not the Problems panel (which has quick fixes of its own).
  await page.locator('.editor-instance .monaco-editor.focused').waitFor();
  await page.keyboard.press('Control+.');
  await page.locator('.action-widget', { hasText: "Rename to 'cpus'" }).waitFor();
  await shot('27-quick-fix-offered');
  // The preferred fix is the focused row.
  await page.keyboard.press('Enter');
  await page.locator('.editor-instance .view-line span', { hasText: /^cpus$/ }).first().waitFor();
  await problemRow(EDITING_TYPO).waitFor({ state: 'detached' });
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'editing.sky.yaml' }).waitFor({ state: 'detached' });
  await shot('28-quick-fix-applied');
});

test('completion offers the keys of the schema and the infra the server has enabled', async () => {
  await replaceEditorText('name: editing\nresources:\n  infra: \nrun: echo hi\n');
  // The end of line 3, after "infra: ".
  await page.locator('.editor-instance .view-line', { hasText: 'infra:' }).first().click();
  await page.keyboard.press('End');
  await page.keyboard.press('Control+Space');
  const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'local' }).first();
  await suggestion.waitFor();
  assert.match(await suggestion.innerText(), /enabled on this server/);
  await shot('29-completion-infra');
  await page.keyboard.press('Enter');
  await page.locator('.editor-instance .view-line', { hasText: 'infra: local' }).waitFor();
  // Keys: a new line under resources offers its keys, with their types.
  await page.keyboard.press('Enter');
  await page.keyboard.type('  acc');
  await page.keyboard.press('Control+Space');
  await page.locator('.suggest-widget .monaco-list-row', { hasText: 'accelerators' }).first().waitFor();
  await shot('30-completion-keys');
  await page.keyboard.press('Escape');
  await runCommand('File: Revert File');
});

/** Runs `action`, which makes the workbench open a link in a new browser tab, and returns that tab. */
async function openedTab(action) {
  const opened = context.waitForEvent('page', { timeout: 30_000 });
  await action();
  // VS Code asks before opening a site it does not trust yet.
  const ask = page.locator('.monaco-dialog-box', { hasText: 'open the external website' });
  const tab = await Promise.race([opened, ask.waitFor({ timeout: 30_000 }).then(async () => (await ask.getByRole('button', { name: 'Open' }).click(), opened))]);
  await tab.waitForLoadState();
  return tab;
}

test('a request launched from this window that finishes out of view says how it ended, with View Logs', async () => {
  await launchFromPalette('hello.yaml', 'e2e-hello');
  // The log channel opens with the launch: put it away, so the end happens out of view.
  await runCommand('View: Hide Panel');
  await page.locator('.part.panel').waitFor({ state: 'hidden' });
  // A toast, or (once it has timed out) the same notification in the notification center.
  let note = page.locator('.notifications-toasts .notification-toast', { hasText: 'launch e2e-hello succeeded' });
  if (!(await note.waitFor({ timeout: 30_000 }).then(() => true, () => false))) {
    await runCommand('Notifications: Show Notifications');
    note = page.locator('.notifications-center .notification-list-item', { hasText: 'launch e2e-hello succeeded' });
    await note.waitFor();
  }
  await shot('31-finished-request-notification');
  await note.hover();
  await note.getByRole('button', { name: 'View Logs' }).click();
  await waitForChannel('SkyDeck: launch e2e-hello');
  await page.locator('.part.panel .view-lines', { hasText: 'ended: SUCCEEDED' }).waitFor();
});

test("SkyDeck: Open Dashboard opens the server's dashboard in the browser through a one-time sign-in link", async () => {
  // code-server is a remote window: VS Code forwards the server's loopback link under code-server's /proxy/PORT/.
  const link = context.waitForEvent('response', { predicate: (r) => /\/dashboard\/link\?code=[A-Za-z0-9_-]{43}$/.test(r.url()), timeout: 30_000 });
  link.catch(() => console.log(`# no dashboard link reached; pages: ${context.pages().map((p) => p.url()).join(' ')}`));
  const tab = await openedTab(() => runCommand('SkyDeck: Open Dashboard'));
  try {
    const answer = await link;
    // The link signs the browser in (a session cookie) and sends it on to the dashboard.
    assert.ok([302, 303].includes(answer.status()), `the one-time link answered ${answer.status()}`);
    assert.match((await answer.allHeaders())['set-cookie'] ?? '', /skydeck_session=/);
    assert.match(answer.headers().location ?? '', /\/dashboard\/$/);
    console.log(`# dashboard link opened at ${answer.url()}`);
    // Through code-server's /proxy/PORT/ the page's assets, API calls and WebSocket are relative to it: it
    // renders, goes live, and shows a request VS Code submits after it loaded without a reload.
    await tab.waitForURL(/\/proxy\/\d+\/dashboard\/$/);
    await tab.locator('.live-open').waitFor();
    await tab.locator('[data-request-id]').first().waitFor();
    await launchFromPalette('hello.yaml', 'e2e-dash');
    const row = tab.locator('[data-request-id]', { hasText: 'e2e-dash' });
    await row.waitFor();
    await tab.screenshot({ path: path.join(SHOTS, '32-dashboard-opened.png') });
    // A request's page below the prefix, with its log from the API under the same prefix.
    await row.locator('a').first().click();
    await tab.waitForURL(/\/proxy\/\d+\/dashboard\/requests\//);
    await tab.getByText('hello from skydeck e2e 1').first().waitFor();
    await tab.screenshot({ path: path.join(SHOTS, '32b-dashboard-request-under-proxy.png') });
  } finally {
    await tab.close();
  }
});

test('the walkthrough shows its steps; its links open the example task, launch it and cancel it, and check the steps off', async () => {
  await runCommand('Welcome: Open Walkthrough...');
  await answerQuickPick('SkyDeck', 'Get Started with SkyDeck');
  const step = (title) => page.locator('.getting-started-step', { hasText: title });
  const checked = (title) => step(title).locator('.codicon-getting-started-step-checked');
  for (const title of ['Connect to an API server', 'Open the example task', 'Launch it', 'Watch the log', 'Cancel it']) await step(title).waitFor();
  await shot('35-walkthrough');
  // Each step's link is a button once the step is expanded.
  const follow = async (title, link) => {
    await step(title).click();
    await step(title).locator('.monaco-button', { hasText: link }).click();
  };
  await follow('Open the example task', 'Open Example Task');
  await page.locator('.tabs-container .tab', { hasText: 'hello.sky.yaml' }).waitFor();
  await page.locator('.editor-instance .view-line', { hasText: 'name: hello-skydeck' }).waitFor();
  await checked('Open the example task').waitFor();
  // Launch on SkyDeck, clicked with the walkthrough focused, launches the example shown beside it.
  await follow('Launch it', 'Launch on SkyDeck');
  await answerQuickPick('e2e-walk');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor();
  assert.match((await dialog.innerText()).replace(/\u00a0/g, ' '), /Launch hello-skydeck on e2e-walk\?/);
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await sidebarRow('launch e2e-walk RUNNING').waitFor({ timeout: 60_000 });
  await checked('Launch it').waitFor();
  await follow('Cancel it', 'Cancel Request...');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'e2e-walk' }).click();
  await page.locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: 'e2e-walk' }).waitFor();
  // One request of one's own is cancelled without a confirmation.
  await page.keyboard.press('Enter');
  await sidebarRow('launch e2e-walk CANCELLED').waitFor();
  await checked('Cancel it').waitFor();
  await shot('36-walkthrough-steps-done');
  await runCommand('View: Close All Editor Groups');
  // The Clusters view shows the later tests' clusters without scrolling.
  cli('down', 'e2e-walk', 'e2e-dash', '-y');
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-walk"]').waitFor({ state: 'detached' });
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-dash"]').waitFor({ state: 'detached' });
});

test('a managed job launched from the CLI shows in the Managed Jobs view, and its status changes there live', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-e2e-job-'));
  try {
    const file = path.join(dir, 'managed.yaml');
    fs.writeFileSync(file, 'name: e2e-managed\nresources:\n  infra: local\nrun: echo managed; sleep 8\n');
    cli('jobs', 'launch', file, '-y', '--async');
    // The view was empty when the job was launched: it shows up through its request, then is polled to its end.
    const row = (status) => page.locator(`.part.sidebar .monaco-list-row[aria-label^="managed job 1 e2e-managed ${status}"]`);
    await row('RUNNING').waitFor({ timeout: 60_000 });
    await shot('37-managed-job-running');
    await row('SUCCEEDED').waitFor({ timeout: 60_000 });
    await shot('38-managed-job-succeeded');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a task declaring a port shows it under its cluster, and Open in Browser opens the endpoint', async () => {
  const port = process.env.E2E_WEB_PORT;
  assert.ok(port, 'run.sh sets E2E_WEB_PORT');
  await launchFromPalette('web.yaml', 'e2e-web');
  await sidebarRow('launch e2e-web RUNNING').waitFor({ timeout: 60_000 });
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-web"]').click();
  const endpoint = page.locator(`.part.sidebar .monaco-list-row[aria-label^="endpoint ${port} of e2e-web"]`);
  await endpoint.waitFor();
  // The cluster's ongoing request shows under it too.
  await page.locator('.part.sidebar .monaco-list-row[aria-label^="launch e2e-web RUNNING"]').nth(1).waitFor();
  await shot('33-cluster-endpoint-and-ongoing-request');
  const tab = await openedTab(() => endpoint.click());
  try {
    // code-server forwards a port of its machine under its own /proxy/PORT/ (what asExternalUri gave).
    for (let attempt = 0; !(await tab.locator('h1', { hasText: 'served by skydeck e2e' }).count()); attempt++) {
      if (attempt === 50) throw new Error(`the endpoint page at ${tab.url()} never showed the server's page`);
      await tab.waitForTimeout(200);
      await tab.reload().catch(() => {});
    }
    console.log(`# endpoint opened at ${tab.url()}`);
    await tab.screenshot({ path: path.join(SHOTS, '34-endpoint-opened.png') });
  } finally {
    await tab.close();
  }
});

test('against a remote team server, Open in Browser opens the endpoint through a port forward over the server', async () => {
  // A team server of its own (an account, jobs as their own uids), which the window connects to as carol:
  // not this machine's local server, so its endpoints are forwarded through it.
  const net = await import('node:net');
  const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-e2e-team-'));
  fs.chmodSync(home, 0o711);
  const dataDir = path.join(home, 'server');
  const users = spawnSync(process.execPath, ['dist/server.js', 'users', 'add', 'carol', '--role', 'user', '--password-stdin', '--data-dir', dataDir], { input: 'carol-password\n', encoding: 'utf8' });
  assert.equal(users.status, 0, users.stderr);
  const [apiPort, webPort] = [await freePort(), await freePort()];
  const uids = 1_900_000_000 + Math.floor(Math.random() * 60_000) * 1000;
  const team = spawn(process.execPath, ['dist/server.js', '--host', '127.0.0.1', '--port', String(apiPort), '--data-dir', dataDir, '--team-local-infra', '--job-sandboxes', path.join(home, 'job-sandboxes'), '--job-uids', `${uids}-${uids + 999}`], { detached: true, stdio: 'ignore' });
  const teamUrl = `http://127.0.0.1:${apiPort}`;
  const authorization = `Basic ${Buffer.from('carol:carol-password').toString('base64')}`;
  const api = async (pathname, body) => (await globalThis.fetch(teamUrl + pathname, { method: body ? 'POST' : 'GET', headers: { authorization, 'content-type': 'application/json' }, body: body && JSON.stringify(body) })).json();
  let tab;
  try {
    for (let i = 0; !(await globalThis.fetch(`${teamUrl}/api/health`).then((r) => r.ok, () => false)); i++) {
      if (i === 100) throw new Error('the team server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const task = { resources: { ports: [webPort] }, run: `echo "<h1>served through the team server</h1>" > index.html; exec python3 -m http.server ${webPort} --bind 127.0.0.1` };
    const { requestId } = await api('/api/v1/launch', { clusterName: 'e2e-team-web', task, detachRun: true });
    assert.equal((await api(`/api/requests/${requestId}?wait=90`)).status, 'SUCCEEDED');

    await runCommand('SkyDeck: Connect to API Server...');
    await workbench.quickInput(page).fill(`http://carol:carol-password@127.0.0.1:${apiPort}`);
    await page.keyboard.press('Enter');
    const cluster = page.locator('.part.sidebar .monaco-list-row[aria-label^="cluster e2e-team-web"]');
    await cluster.waitFor({ timeout: 30_000 });
    // The details of a request of this server, which the window's own server does not have (the tests that follow).
    await openDetailsFromRow(sidebarRow('launch e2e-team-web SUCCEEDED'), 'e2e-team-web');
    await (await panelPage('request')).locator('#status', { hasText: 'SUCCEEDED' }).waitFor();
    await cluster.click();
    const endpoint = page.locator(`.part.sidebar .monaco-list-row[aria-label^="endpoint ${webPort} of e2e-team-web"]`);
    await endpoint.waitFor();
    await shot('35-team-server-cluster-endpoint');
    tab = await openedTab(() => endpoint.click());
    for (let attempt = 0; !(await tab.locator('h1', { hasText: 'served through the team server' }).count()); attempt++) {
      if (attempt === 50) throw new Error(`the forwarded endpoint at ${tab.url()} never showed the task's page`);
      await tab.waitForTimeout(200);
      await tab.reload().catch(() => {});
    }
    // code-server forwards the local end of the forward (127.0.0.1:LOCALPORT), not the task's port itself.
    const forwarded = /\/proxy\/(\d+)\//.exec(tab.url());
    assert.ok(forwarded, `the endpoint opened at ${tab.url()}, not under code-server's /proxy/PORT/`);
    assert.notEqual(Number(forwarded[1]), webPort, `the browser went to the task's port ${webPort} directly, not through the forward`);
    console.log(`# team endpoint ${webPort} opened through the forward at ${tab.url()}`);
    await tab.screenshot({ path: path.join(SHOTS, '36-team-endpoint-through-forward.png') });
  } finally {
    await tab?.close().catch(() => {});
    // Back to the harness's own server, for the tests that follow.
    await runCommand('SkyDeck: Connect to API Server...').catch(() => {});
    await workbench.quickInput(page).fill(API_URL).catch(() => {});
    await page.keyboard.press('Enter').catch(() => {});
    // Jobs outlive their server by design: tear the cluster down before stopping it.
    const down = await api('/api/v1/down', { clusterName: 'e2e-team-web' }).catch(() => undefined);
    if (down?.requestId) await api(`/api/requests/${down.requestId}?wait=60`).catch(() => {});
    try {
      process.kill(-team.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    // The server writes its store as it stops: its folder is removed once it has exited.
    if (team.exitCode === null && team.signalCode === null) await Promise.race([once(team, 'exit'), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    fs.rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});

/**
 * The page of the SkyDeck panel of `kind` ('launch', 'request') that shows now: VS Code keeps no page for a
 * hidden tab, and with several webviews in the window their frames come in no fixed order.
 */
async function panelPage(kind) {
  const frames = page.frameLocator('iframe.webview.ready');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const count = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < count; i++) {
      const frame = frames.nth(i).frameLocator('#active-frame');
      if ((await frame.locator(`body[data-panel="${kind}"]`).count().catch(() => 0)) > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no ${kind} panel page in the window (${count} webview frames)`);
    await page.waitForTimeout(100);
  }
}

/**
 * A running request whose log the test writes: its task echoes each line written into a FIFO of the
 * test's own folder (lines come exactly when the test says, no timers), until the line `end`.
 */
const beats = { dir: '', fifo: '', requestId: '', ticks: 0 };
after(() => {
  if (beats.fifo) writeBeat('end');
  if (beats.dir) fs.rmSync(beats.dir, { recursive: true, force: true });
});
/** Starts the request on `cluster` (once) and opens its details; returns their page, with the log begun. */
async function beatsDetails(cluster) {
  if (!beats.requestId) {
    beats.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skydeck-e2e-beats-'));
    beats.fifo = path.join(beats.dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [beats.fifo]).status, 0, 'mkfifo');
    const file = path.join(beats.dir, 'beats.yaml');
    fs.writeFileSync(file, `name: beats\nresources:\n  infra: local\nrun: |\n  exec 3<>${beats.fifo}\n  echo "waiting for lines"\n  while read -r line <&3; do\n    [ "$line" = end ] && break\n    echo "$line"\n  done\n`);
    beats.requestId = cli('launch', file, '-c', cluster, '-y', '--async').trim();
  }
  await openDetailsFromRow(sidebarRow(`launch ${cluster} RUNNING`), cluster);
  const details = await panelPage('request');
  await details.locator('#log', { hasText: 'waiting for lines' }).waitFor();
  return details;
}
/** Writes a line for the task to echo; never blocks (ENXIO when the task does not hold the FIFO open). */
function writeBeat(line) {
  try {
    const fd = fs.openSync(beats.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, `${line}\n`);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (line !== 'end') throw err;
  }
}
/** Has the task log the next numbered tick; returns the line. */
function tick() {
  const line = `tick ${++beats.ticks}`;
  writeBeat(line);
  return line;
}
const matchCount = (n) => new RegExp(`^${n} match${n === 1 ? '' : 'es'}$`);

const tab = (text) => page.locator('.tabs-container .tab', { hasText: text });
/** The Launch form's tab (a text match would also find a Request details tab titled "launch ..."). */
const launchTab = (active = false) => page.locator(`.tabs-container .tab${active ? '.active' : ''}[aria-label="SkyDeck: Launch"]`);
const fieldValue = (frame, id) => frame.locator(`#${id}`).evaluate((field) => field.value);

/** The API server as its local user (run.sh exports SKYDECK_HOME, where the server wrote its token). */
async function api(pathname) {
  const token = fs.readFileSync(path.join(process.env.SKYDECK_HOME, 'server', 'local-token'), 'utf8').trim();
  const answer = await globalThis.fetch(API_URL + pathname, { headers: { authorization: `Bearer ${token}` } });
  assert.ok(answer.ok, `GET ${pathname}: ${answer.status}`);
  return answer.text();
}
/** Request log streams the server has open now (its /metrics gauge). */
const logFollowers = async () => Number(/^skydeck_log_followers (\d+)$/m.exec(await api('/metrics'))?.[1]);
/** Polls `probe` until it returns true, for at most 30 s. */
async function until(what, probe) {
  for (const deadline = Date.now() + 30_000; !(await probe()); ) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await page.waitForTimeout(100);
  }
}

test('a hidden Request details tab stops its log stream, and shows every line once when shown again', async () => {
  // These tests hide a tab behind an editor of the same group: one group, whatever earlier tests left.
  await runCommand('View: Join All Editor Groups');
  let details = await beatsDetails('e2e-pulse');
  const first = tick();
  await details.locator('#log', { hasText: first }).waitFor();
  // The one stream of this request's log is the panel's (the CLI submitted it with --async).
  const shown = await logFollowers();
  assert.ok(shown >= 1, `${shown} log streams open with the details showing`);
  await page.keyboard.press('Control+P');
  await answerQuickPick('hello.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'hello.yaml' }).waitFor();
  await until('the hidden panel to stop its stream', async () => (await logFollowers()) === shown - 1);
  // Lines written while the tab is hidden, in the server's log before the tab comes back.
  const hidden = [tick(), tick()];
  await until('the lines to reach the server', async () => (await api(`/api/stream?request_id=${beats.requestId}&follow=0&format=plain`)).includes(hidden[1]));
  await tab('e2e-pulse').click();
  await page.locator('.tabs-container .tab.active', { hasText: 'e2e-pulse' }).waitFor();
  details = await panelPage('request');
  await details.locator('#log', { hasText: hidden[1] }).waitFor();
  await until('the panel to stream again', async () => (await logFollowers()) === shown);
  const after = tick();
  await details.locator('#log', { hasText: after }).waitFor();
  await shot('39-request-details-hidden-and-shown');
  const lines = (await details.locator('#log .log-line').allInnerTexts()).filter((l) => l.startsWith('tick '));
  assert.deepEqual(lines, [first, ...hidden, after], 'each line once, in order');
});

test('a Request details panel of a request the server does not have says so', async () => {
  // Opened on the team server above, then the window went back to its own server, which has no such request.
  await tab('e2e-team-web').click();
  await page.locator('.tabs-container .tab.active', { hasText: 'e2e-team-web' }).waitFor();
  const details = await panelPage('request');
  await details.locator('#unknown', { hasText: 'The API server has no such request' }).waitFor();
  await details.locator('#cancel[disabled]').waitFor({ state: 'attached' });
  await shot('39b-request-details-unknown-request');
});

test('a window reload brings the Launch form and a Request details panel back as they were, and both work', async () => {
  const details = await beatsDetails('e2e-pulse');
  await details.locator('#log', { hasText: `tick ${beats.ticks}` }).waitFor();
  await details.locator('#search input').fill('tick');
  await details.locator('#matches', { hasText: matchCount(beats.ticks) }).waitFor();
  // The form, opened on a task file from its CodeLens (an opening the page applies), with entries.
  await page.keyboard.press('Control+P');
  await answerQuickPick('hello.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'hello.yaml' }).waitFor();
  await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Open in Launch Form' }).click();
  await launchTab(true).waitFor();
  let form = await panelPage('launch');
  await form.locator('#taskFile li.option.selected', { hasText: 'hello.yaml' }).waitFor({ state: 'attached' });
  await form.locator('#clusterName input').fill('e2e-reload');
  await form.locator('#cpus input').fill('1');
  await form.locator('#envs textarea').fill('RELOADED=yes');
  await form.locator('.issue[data-for="clusterName"]', { hasText: /^$/ }).waitFor({ state: 'attached' });
  await tab('e2e-pulse').click();
  await page.locator('.tabs-container .tab.active', { hasText: 'e2e-pulse' }).waitFor();
  await shot('40-before-window-reload');

  const reloaded = page.waitForEvent('load', { timeout: 60_000 });
  await runCommand('Developer: Reload Window');
  await reloaded;
  await page.locator('.part.statusbar a[aria-label^="SkyDeck connected"]').waitFor({ timeout: 60_000 });
  await page.locator('.tabs-container .tab.active', { hasText: 'e2e-pulse' }).waitFor();
  await launchTab().waitFor();
  // The details: the request, its log again from the server, the search; and it follows the log live.
  const restored = await panelPage('request');
  await restored.locator('#status', { hasText: 'RUNNING' }).waitFor();
  await restored.locator('#log', { hasText: `tick ${beats.ticks}` }).waitFor();
  assert.equal(await fieldValue(restored, 'search'), 'tick');
  await restored.locator('#matches', { hasText: matchCount(beats.ticks) }).waitFor();
  await restored.locator('#log', { hasText: tick() }).waitFor();
  await restored.locator('#matches', { hasText: matchCount(beats.ticks) }).waitFor();
  await shot('41-request-details-after-reload');
  // The panel of a request this server does not have is back too, and says so again.
  await tab('e2e-team-web').click();
  await page.locator('.tabs-container .tab.active', { hasText: 'e2e-team-web' }).waitFor();
  await (await panelPage('request')).locator('#unknown', { hasText: 'The API server has no such request' }).waitFor();
  // The form: its entries, and it launches.
  await launchTab().click();
  form = await panelPage('launch');
  await form.locator('#clusters-hint', { hasText: 'clusters' }).waitFor();
  assert.match(await fieldValue(form, 'taskFile'), /hello\.yaml$/);
  assert.equal(await fieldValue(form, 'clusterName'), 'e2e-reload');
  assert.equal(await fieldValue(form, 'cpus'), '1');
  assert.equal(await fieldValue(form, 'envs'), 'RELOADED=yes');
  await shot('42-launch-form-after-reload');
  await form.locator('#launch').click();
  await form.locator('#result', { hasText: 'Submitted' }).waitFor();
  await sidebarRow('launch e2e-reload').waitFor();
});

test('the Launch form opened on a task file while its tab is hidden shows that file, not its saved entries', async () => {
  // The form restored by the reload above saved hello.yaml; it is hidden behind an editor each time.
  const openedOn = async (taskFile) => {
    await launchTab(true).waitFor();
    const form = await panelPage('launch');
    await form.locator('#taskFile li.option.selected', { hasText: taskFile }).waitFor({ state: 'attached' });
    assert.match(await fieldValue(form, 'taskFile'), new RegExp(`${taskFile.replace('.', '\\.')}$`));
    // The other entries stay.
    assert.equal(await fieldValue(form, 'clusterName'), 'e2e-reload');
  };
  // From the explorer's context menu.
  await page.keyboard.press('Control+P');
  await answerQuickPick('notes.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'notes.yaml' }).waitFor();
  await runCommand('View: Show Explorer');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'sleepy.yaml' }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await row.click({ button: 'right' });
      await page.locator('.monaco-menu .action-menu-item', { hasText: 'Open Launch Form' }).hover({ timeout: 5_000 });
      await page.keyboard.press('Enter');
      break;
    } catch (err) {
      if (attempt === 3) throw err;
      await page.keyboard.press('Escape');
    }
  }
  await openedOn('sleepy.yaml');
  await shot('43-launch-form-opened-from-explorer');
  // From the CodeLens of a task file open in front of it.
  await page.keyboard.press('Control+P');
  await answerQuickPick('web.yaml');
  await page.locator('.tabs-container .tab.active', { hasText: 'web.yaml' }).waitFor();
  await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Open in Launch Form' }).click();
  await openedOn('web.yaml');
  // Back to the SkyDeck view (its item, not the link under its badge).
  await page.locator('.part.activitybar .action-item:has(a[aria-label^="SkyDeck"])').click();
  await page.locator('.part.sidebar .pane-header', { hasText: 'Requests' }).waitFor();
});
