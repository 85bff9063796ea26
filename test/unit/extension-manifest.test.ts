// The extension manifest (the root package.json, also the CLI's package) checked against the code that implements it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS, SETTINGS } from '../../extension/command-ids';
import { clusterContextValue } from '../../extension/format';
import { panelViewType } from '../../extension/panels/view-types';
import { PANEL_KINDS } from '../../protocol/webview';
import type { Cluster } from '../../protocol/model';

const root = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributed: { command: string; title: string; category: string }[] = manifest.contributes.commands;
const contributedIds = new Set(contributed.map((c) => c.command));
const viewIds = new Set(Object.values(manifest.contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(root, dir, f), 'utf8'));
}

test('every command the code defines is contributed, and nothing else is', () => {
  assert.deepEqual([...contributedIds].sort(), Object.values(COMMANDS).sort());
});

test('every contributed command is in the SkyDeck category', () => {
  for (const c of contributed) assert.equal(c.category, 'SkyDeck', c.command);
});

test('menus, welcome views and keybindings only name contributed commands and views', () => {
  for (const [menu, items] of Object.entries(manifest.contributes.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const item of items) {
      assert.ok(contributedIds.has(item.command), `${menu} names ${item.command}`);
      for (const [, view] of (item.when ?? '').matchAll(/view == ([\w.]+)/g)) assert.ok(viewIds.has(view!), `${menu} names view ${view}`);
    }
  }
  for (const welcome of manifest.contributes.viewsWelcome as { view: string; contents: string }[]) {
    assert.ok(viewIds.has(welcome.view), welcome.view);
    for (const [, id] of welcome.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(contributedIds.has(id!), `welcome links ${id}`);
  }
});

test('inline and context actions on requests, clusters and jobs match the context values the views set', () => {
  const contextMenus = manifest.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const cancel = contextMenus.filter((m) => m.command === COMMANDS.cancelRequest).map((m) => new RegExp(/viewItem =~ \/(.+)\//.exec(m.when)![1]!));
  assert.ok(cancel.length > 0);
  for (const re of cancel) {
    assert.ok(re.test('request.running.mine') && re.test('request.pending.others'));
    assert.ok(!re.test('request.succeeded.mine') && !re.test('request.cancelled.mine'));
  }
});

test('Stop and Start are offered on clusters whose infra can stop, never on an SSH node pool or Slurm (canStop false)', () => {
  const contextMenus = manifest.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const whenOf = (command: string): RegExp[] => contextMenus.filter((m) => m.command === command).map((m) => new RegExp(/viewItem =~ \/(.+)\//.exec(m.when)![1]!));
  const base: Omit<Cluster, 'status'> = { name: 'c', infra: 'local', resources: { infra: 'local' }, numNodes: 1, owner: { id: 'u', name: 'u' }, launchedAt: 0, nodes: [] };
  const stop = whenOf(COMMANDS.stopCluster);
  const start = whenOf(COMMANDS.startCluster);
  assert.ok(stop.length > 0 && start.length > 0);
  for (const re of stop) {
    assert.ok(re.test(clusterContextValue({ ...base, status: 'UP', canStop: true }, true)), 'local UP cluster offers Stop');
    assert.ok(!re.test(clusterContextValue({ ...base, infra: 'ssh/lab', status: 'UP', canStop: false }, true)), 'SSH cluster gets no Stop');
  }
  for (const re of start) {
    assert.ok(re.test(clusterContextValue({ ...base, status: 'STOPPED', canStop: true }, false)), 'stopped local cluster offers Start');
    assert.ok(!re.test(clusterContextValue({ ...base, infra: 'slurm/hpc', status: 'STOPPED', canStop: false }, true)), 'Slurm cluster gets no Start');
  }
});

test('every command id the code names as a string is contributed', () => {
  for (const text of sources('extension')) {
    for (const [, id] of text.matchAll(/(?:command:\s*|executeCommand\()'(skydeck\.[\w.]+)'/g)) assert.ok(contributedIds.has(id!), id);
  }
});

test('every setting the code reads is contributed with a description and a default', () => {
  const properties = manifest.contributes.configuration.properties as Record<string, { default?: unknown; description?: string; markdownDescription?: string }>;
  assert.deepEqual(Object.keys(properties).sort(), Object.values(SETTINGS).map((k) => `skydeck.${k}`).sort());
  for (const [key, p] of Object.entries(properties)) {
    assert.ok(p.description || p.markdownDescription, `${key} has a description`);
    assert.ok('default' in p, `${key} has a default`);
  }
});

test('the manifest targets VS Code 1.100, the API the code is typed against', () => {
  assert.equal(manifest.engines.vscode, '^1.100.0');
  assert.equal(manifest.devDependencies['@types/vscode'], '1.100.0');
  assert.equal(manifest.main, './dist/extension.js');
  assert.ok(manifest.activationEvents.length > 0);
});

test('each webview panel kind activates the extension when VS Code restores one after a window reload', () => {
  // Without the event VS Code does not activate the extension for a restored panel and shows it empty.
  for (const kind of PANEL_KINDS) assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${panelViewType(kind)}`), kind);
});

test('one package.json is both the extension manifest and the CLI package, with nothing to install at run time', () => {
  assert.equal(manifest.bin.skydeck, 'dist/cli.js');
  assert.equal(manifest.dependencies, undefined, 'every bundle is self-contained');
  // vsce refuses a "files" list beside .vscodeignore; .npmignore says what npm pack ships instead.
  assert.equal(manifest.files, undefined);
  assert.ok(manifest.scripts.watch, 'F5 runs `npm run watch`');
});
