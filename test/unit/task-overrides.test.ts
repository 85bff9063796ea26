// SkyPilot's task flags over a task file's values: replace, reset with none, refuse a conflict with candidates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTaskYaml, TaskValidationError, validateTask } from '../../protocol/task';
import { applyOverrides, configFromPairs } from '../../protocol/task-overrides';

function refusal(fn: () => unknown): TaskValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaskValidationError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('task flags over a task file', () => {
  const file = parseTaskYaml(`name: train
num_nodes: 1
resources:
  infra: ssh/lab
  cpus: 4
  accelerators: A100:1
  use_spot: true
  instance_type: p3.2xlarge
  ports: 8080
  image_id: docker:ubuntu
run: echo
`);

  it('each flag replaces its key', () => {
    const t = applyOverrides(file, {
      name: 'other',
      numNodes: 2,
      cpus: '8+',
      memory: '32GB',
      gpus: 'H100:2',
      useSpot: false,
      diskSize: '100',
      diskTier: 'high',
      networkTier: 'best',
      ports: ['9000', '9100-9110'],
      imageId: 'docker:python:3.12',
      workdir: '/tmp',
    });
    assert.equal(t.name, 'other');
    assert.equal(t.num_nodes, 2);
    assert.equal(t.workdir, '/tmp');
    assert.deepEqual(t.resources, {
      infra: 'ssh/lab',
      cpus: '8+',
      memory: '32',
      accelerators: 'H100:2',
      use_spot: false,
      instance_type: 'p3.2xlarge',
      ports: ['9000', '9100-9110'],
      image_id: 'docker:python:3.12',
      disk_size: 100,
      disk_tier: 'high',
      network_tier: 'best',
    });
  });

  it('none or an empty value removes the key, so a file runs where the key has no meaning', () => {
    const t = applyOverrides(file, { instanceType: '', gpus: 'none', imageId: 'none', ports: ['none'], useSpot: false });
    assert.deepEqual(t.resources, { infra: 'ssh/lab', cpus: '4', use_spot: false });
  });

  it('--infra replaces the infra; --cloud/--region/--zone replace its parts', () => {
    assert.equal(applyOverrides(file, { infra: 'local' }).resources!.infra, 'local');
    assert.equal(applyOverrides(file, { region: 'other' }).resources!.infra, 'ssh/other');
    assert.equal(applyOverrides(file, { cloud: 'AWS', zone: 'us-east-1a' }).resources!.infra, 'aws/lab/us-east-1a');
    assert.equal(applyOverrides(file, { infra: 'none' }).resources!.infra, undefined);
    assert.match(refusal(() => applyOverrides(file, { infra: 'nowhere' })).message, /--infra "nowhere"/);
  });

  it('a bad flag value is refused naming the flag', () => {
    assert.match(refusal(() => applyOverrides(file, { cpus: 'many' })).message, /--cpus: expected a number/);
    assert.match(refusal(() => applyOverrides(file, { ports: ['70000'] })).message, /--ports: .*70000/);
    assert.match(refusal(() => applyOverrides(file, { diskTier: 'fast' })).message, /--disk-tier: expected low/);
    assert.match(refusal(() => applyOverrides(file, { ports: ['none', '80'] })).message, /none alone/);
  });

  it('a flag for a key the any_of candidates set is a conflict, before anything is created', () => {
    const task = validateTask({ resources: { any_of: [{ infra: 'local', cpus: 2 }, { infra: 'ssh', cpus: 4 }] } });
    const err = refusal(() => applyOverrides(task, { cpus: '8' }));
    assert.equal(err.issues[0]!.path, 'resources.any_of.0.cpus');
    assert.match(err.message, /--cpus cannot override cpus/);
    assert.match(refusal(() => applyOverrides(task, { infra: 'local' })).message, /--infra cannot override infra/);
    // Keys the candidates leave alone can still be set for all of them.
    assert.equal(applyOverrides(task, { memory: '4' }).resources!.memory, '4');
  });

  it('--config merges nested key=value pairs into the task config', () => {
    const t = applyOverrides(validateTask({ config: { kubernetes: { provision_timeout: 10 } } }), { config: configFromPairs([['kubernetes.pod_config', { a: 1 }], ['docker.run_options', ['--x']]]) });
    assert.deepEqual(t.config, { kubernetes: { provision_timeout: 10, pod_config: { a: 1 } }, docker: { run_options: ['--x'] } });
    assert.match(refusal(() => applyOverrides(t, { config: configFromPairs([['aws.vpc_name', 'x']]) })).message, /--config: unknown key/);
  });

  it('no flags leave the task as it is', () => {
    assert.equal(applyOverrides(file, { ports: [] }), file);
  });

  it('--git-url makes the workdir a git mapping; over a git workdir --git-ref or --git-url replaces its part', () => {
    assert.deepEqual(applyOverrides(file, { gitUrl: 'file:///srv/repo', gitRef: 'v1' }).workdir, { url: 'file:///srv/repo', ref: 'v1' });
    assert.deepEqual(applyOverrides(validateTask({ workdir: '/tmp/w', run: 'x' }), { gitUrl: 'https://h/r.git' }).workdir, { url: 'https://h/r.git' });
    const git = validateTask({ workdir: { url: 'https://h/r.git', ref: 'main' }, run: 'x' });
    assert.deepEqual(applyOverrides(git, { gitRef: 'v2' }).workdir, { url: 'https://h/r.git', ref: 'v2' });
    assert.deepEqual(applyOverrides(git, { gitUrl: 'https://h/other.git' }).workdir, { url: 'https://h/other.git' }, "a new repository does not keep the old one's ref");
    assert.match(refusal(() => applyOverrides(file, { gitRef: 'v1' })).message, /--git-ref needs a repository/);
    assert.match(refusal(() => applyOverrides(file, { gitUrl: 'https://h/r.git', workdir: '/tmp/w' })).message, /--git-url and --workdir both set the workdir/);
  });

  it('--job-recovery sets resources.job_recovery', () => {
    assert.equal(applyOverrides(file, { jobRecovery: 'FAILOVER' }).resources?.job_recovery, 'FAILOVER');
  });
});
