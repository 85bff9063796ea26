import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { fillEnvs, fillEnvValues, parseEnvArg, parseEnvFile, parseTaskYaml, TaskValidationError, validateTask } from '../../protocol/task';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaskValidationError, `expected TaskValidationError, got ${err}`);
    return err.issues;
  }
  assert.fail('expected the task to be refused');
}

describe('task YAML', () => {
  it('parses a SkyPilot task and folds cloud: into infra', () => {
    const task = parseTaskYaml(`name: train
num_nodes: 1
resources:
  cloud: local
  cpus: 2+
  memory: 4
  accelerators: {A100: 2}
envs:
  EPOCHS: 3
  DEBUG: true
run: echo $EPOCHS
`);
    assert.deepEqual(task.resources, { infra: 'local', cpus: '2+', memory: '4', accelerators: 'A100:2' });
    assert.deepEqual(task.envs, { EPOCHS: '3', DEBUG: 'true' });
  });

  it('points at the line of a wrong type', () => {
    const issues = issuesOf(() => parseTaskYaml('name: ok\nresources:\n  cpus: many\nrun: echo\n', 'task.yaml'));
    assert.equal(issues[0]!.path, 'resources.cpus');
    assert.equal(issues[0]!.line, 3);
  });

  it('names an unknown key, its line, and the likely intended key', () => {
    const issues = issuesOf(() => parseTaskYaml('run: echo\nsetpu: pip install x\n'));
    assert.equal(issues[0]!.path, 'setpu');
    assert.equal(issues[0]!.line, 2);
    assert.match(issues[0]!.message, /did you mean setup\?/);
  });

  it('refuses text that is not YAML, with its line', () => {
    const issues = issuesOf(() => parseTaskYaml('run: echo\n  bad: [unclosed\n'));
    assert.match(issues[0]!.message, /not valid YAML/);
    assert.ok(issues[0]!.line !== undefined);
  });

  it('refuses a document that is not a mapping', () => {
    assert.match(issuesOf(() => parseTaskYaml('- just\n- a list\n'))[0]!.message, /mapping/);
  });

  it('stops alias bombs before they expand', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const issues = issuesOf(() => parseTaskYaml(bomb.join('\n') + '\n'));
    assert.match(issues[0]!.message, /alias|not a usable/i);
  });

  it('requires envs declared null, and fills them from --env', () => {
    const task = validateTask({ envs: { TOKEN: null, MODE: 'fast' }, secrets: { KEY: null }, run: 'echo' });
    const missing = issuesOf(() => fillEnvs(task));
    assert.deepEqual(missing.map((i) => i.path).sort(), ['envs.TOKEN', 'secrets.KEY']);
    const filled = fillEnvs(task, { TOKEN: 't', KEY: 'k' });
    assert.equal(filled.envs!.TOKEN, 't');
    assert.equal(filled.secrets!.KEY, 'k');
    assert.equal(task.envs!.TOKEN, null, 'the input task is not changed');
  });

  it('reads env files and --env arguments', () => {
    assert.deepEqual(parseEnvFile('# comment\nA=1\nexport B="two words"\n\n'), { A: '1', B: 'two words' });
    assert.deepEqual(parseEnvArg('K=a=b'), ['K', 'a=b']);
    assert.deepEqual(parseEnvArg('HOME'), ['HOME', undefined]);
    assert.equal(issuesOf(() => parseEnvFile('oops\n', '.env'))[0]!.line, 1);
    issuesOf(() => parseEnvArg('1BAD=x'));
  });

  it('rejects a cloud that conflicts with infra', () => {
    assert.equal(issuesOf(() => validateTask({ resources: { cloud: 'local', infra: 'slurm' } }))[0]!.path, 'resources.cloud');
  });
});

test('fillEnvValues asks for the task to be validated again only when a reference in file_mounts or workdir was filled', () => {
  const plain = validateTask({ workdir: '/src', file_mounts: { '/data': { source: 's3://bucket/path', mode: 'MOUNT' }, '/etc/x': '/local/x' }, envs: { A: '1' }, run: 'echo' });
  const kept = fillEnvValues(plain);
  assert.equal(kept.recheck, false);
  assert.equal(kept.task.file_mounts, plain.file_mounts, 'the same object, not a copy');
  const referring = validateTask({ file_mounts: { '/data': { source: 's3://${BUCKET}/path', mode: 'MOUNT' } }, envs: { BUCKET: 'mine' }, run: 'echo' });
  const filled = fillEnvValues(referring);
  assert.equal(filled.recheck, true);
  assert.deepEqual(filled.task.file_mounts, { '/data': { source: 's3://mine/path', mode: 'MOUNT' } });
});
