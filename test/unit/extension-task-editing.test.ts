// The editor side of task files, without VS Code: where the cursor is, which keys and docs the schema
// offers there, and the problems a task file has in the CLI's words.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkTaskText, problemColumns } from '../../extension/tasks/task-check';
import { keyDocs, keysAt, valueChoices } from '../../extension/tasks/task-keys';
import { cursorPlace, keyUnderCursor } from '../../extension/tasks/yaml-cursor';

const lines = (text: string) => text.split('\n');

test('the cursor place follows indentation through mappings and list items, even in YAML that does not parse yet', () => {
  const doc = lines(['name: t', 'resources:', '  cpus: 2', '  any_of:', '    - infra: local', '      acc', '  infra: ', 'envs:', '  A: 1', '  ', 'ru'].join('\n'));
  assert.deepEqual(cursorPlace(doc, 5, 9), { parent: ['resources', 'any_of', 0], kind: 'key', prefix: 'acc', start: 6 });
  assert.deepEqual(cursorPlace(doc, 6, 9), { parent: ['resources'], kind: 'value', key: 'infra', prefix: '', start: 9 });
  assert.deepEqual(cursorPlace(doc, 4, 18), { parent: ['resources', 'any_of', 0], kind: 'value', key: 'infra', prefix: 'local', start: 13 });
  assert.deepEqual(cursorPlace(doc, 9, 2), { parent: ['envs'], kind: 'key', prefix: '', start: 2 });
  assert.deepEqual(cursorPlace(doc, 10, 2), { parent: [], kind: 'key', prefix: 'ru', start: 0 });
  assert.deepEqual(keyUnderCursor(doc, 2, 3), { path: ['resources', 'cpus'], start: 2, end: 6 });
  assert.deepEqual(keyUnderCursor(doc, 4, 7), { path: ['resources', 'any_of', 0, 'infra'], start: 6, end: 11 });
  assert.equal(keyUnderCursor(doc, 2, 9), undefined, 'on the value, not the key');
  const dashed = lines('resources:\n  ordered:\n    - ');
  assert.deepEqual(cursorPlace(dashed, 2, 6), { parent: ['resources', 'ordered', 0], kind: 'key', prefix: '', start: 6 });
});

test('keys, docs and values come from the one task schema', () => {
  const top = keysAt([]).map((k) => k.key);
  for (const key of ['resources', 'run', 'setup', 'envs', 'num_nodes', 'file_mounts']) assert.ok(top.includes(key), key);
  assert.ok(!top.some((k) => k.startsWith('_')), 'internal keys are not offered');
  const resources = keysAt(['resources']).map((k) => k.key);
  for (const key of ['infra', 'cpus', 'memory', 'accelerators', 'ports', 'any_of']) assert.ok(resources.includes(key), key);
  assert.ok(keysAt(['resources', 'any_of', 0]).some((k) => k.key === 'cpus'), 'list items of any_of are resources too');
  assert.match(keyDocs(['num_nodes'])!, /\*\*num_nodes\*\*: integer\n\nNodes the task runs on/);
  assert.match(keyDocs(['resources', 'infra'])!, /Where to run/);
  assert.match(keyDocs(['service', 'replicas'])!, /service/, 'a key without its own text still has docs');
  assert.match(keyDocs(['service'])!, /does not act on it/);
  assert.equal(keyDocs(['resources', 'nonsense']), undefined);
  assert.deepEqual(valueChoices(['resources', 'use_spot']), ['true', 'false']);
});

test('problems are the CLI\'s: a misspelt key with its suggestion at its line, wrong types, YAML errors', () => {
  const typo = checkTaskText('resources:\n  cpu: 2\nrun: echo hi\n');
  assert.equal(typo.length, 1);
  assert.equal(typo[0]!.kind, 'unknown-key');
  assert.equal(typo[0]!.path, 'resources.cpu');
  assert.equal(typo[0]!.line, 2);
  assert.equal(typo[0]!.suggestion, 'cpus');
  assert.match(typo[0]!.message, /^unknown key; did you mean cpus\?/);
  assert.deepEqual(problemColumns('  cpu: 2', typo[0]!), { start: 2, end: 5 });
  const wrong = checkTaskText('num_nodes: lots\nrun: x\n');
  assert.equal(wrong[0]!.path, 'num_nodes');
  assert.equal(wrong[0]!.line, 1);
  assert.deepEqual(problemColumns('num_nodes: lots', wrong[0]!), { start: 11, end: 15 });
  const broken = checkTaskText('run: [unclosed\n');
  assert.match(broken[0]!.message, /^not valid YAML/);
  assert.deepEqual(checkTaskText('run: echo fine\n'), []);
});

test('required envs and infra the connected server has not enabled are reported at their keys', () => {
  const text = 'envs:\n  TOKEN: null\nresources:\n  infra: slurm/debug\nrun: echo $TOKEN\n';
  const infra = [
    { infra: 'local', enabled: true },
    { infra: 'ssh', enabled: false, reason: 'no ssh_node_pools.yaml', hint: 'define node pools' },
    { infra: 'slurm', enabled: false, reason: 'no slurm section', hint: 'add one' },
  ];
  const found = checkTaskText(text, { server: { infra } });
  assert.deepEqual(found.map((p) => [p.kind, p.path, p.line]), [['env-required', 'envs.TOKEN', 2], ['infra-not-enabled', 'resources.infra', 4]]);
  assert.equal(found[0]!.message, 'required env has no value; pass --env TOKEN=VALUE');
  assert.equal(found[1]!.message, "infra 'slurm/debug' is not enabled on this server (enabled: local): no slurm section; add one; run `skydeck check` to see why");
  assert.deepEqual(problemColumns('  infra: slurm/debug', found[1]!), { start: 9, end: 20 });
  assert.deepEqual(checkTaskText('resources:\n  infra: local\nrun: x\n', { server: { infra } }), []);
  assert.match(checkTaskText('resources:\n  infra: aws\nrun: x\n', { server: { infra } })[0]!.message, /infra 'aws' is not enabled on this server \(enabled: local\): SkyDeck runs tasks on local, ssh, slurm/);
});

test('a workdir that does not exist beside the file is reported as the CLI does', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skydeck-task-check-'));
  try {
    const found = checkTaskText('workdir: ./missing\nrun: x\n', { base: dir });
    assert.equal(found[0]!.path, 'workdir');
    assert.equal(found[0]!.line, 1);
    assert.match(found[0]!.message, /missing is not a directory/);
    assert.deepEqual(checkTaskText('workdir: .\nrun: x\n', { base: dir }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
