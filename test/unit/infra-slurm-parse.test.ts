import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandHostlist, nodeUsable, parseGres, parseScontrolJob, parseSinfo } from '../../server/infra/slurm/slurm-cli';
import { parseSlurmConfig } from '../../server/infra/slurm/slurm-config';

test('sinfo lines become nodes with their partition, CPUs, memory, GPUs, GRES and TmpDisk', () => {
  assert.deepEqual(parseSinfo('n1|debug*|2|2000|(null)|idle|0\ng1|gpu|32|256000|gpu:a100:4(S:0-1)|mix|102400\n'), [
    { name: 'n1', partition: 'debug', isDefault: true, cpus: 2, memoryGiB: 2, accelerators: undefined, state: 'idle' },
    { name: 'g1', partition: 'gpu', isDefault: false, cpus: 32, memoryGiB: 250, accelerators: { name: 'A100', count: 4 }, state: 'mix', gres: 'gpu:a100:4(S:0-1)', diskFreeGB: 100 },
  ]);
});

test("Slurm host lists expand as scontrol show hostnames does", () => {
  assert.deepEqual(expandHostlist('n[1-3,7],gpu01'), ['n1', 'n2', 'n3', 'n7', 'gpu01']);
  assert.deepEqual(expandHostlist('node[08-10]'), ['node08', 'node09', 'node10']);
  assert.deepEqual(expandHostlist('a[1-2]-ib,b'), ['a1-ib', 'a2-ib', 'b']);
  assert.deepEqual(expandHostlist(''), []);
  assert.deepEqual(expandHostlist('(null)'), []);
});

test('gres without a type still counts GPUs', () => {
  assert.deepEqual(parseGres('gpu:2'), { name: 'GPU', count: 2 });
  assert.equal(parseGres('(null)'), undefined);
});

test('down, drained and not-responding nodes are not usable', () => {
  for (const s of ['idle', 'mix', 'alloc', 'idle~']) assert.equal(nodeUsable(s), true, s);
  for (const s of ['down', 'down*', 'drain', 'drng', 'idle*'.replace('idle', 'down')]) assert.equal(nodeUsable(s), false, s);
});

test('scontrol show job -o becomes key/value pairs', () => {
  const job = parseScontrolJob('JobId=12 JobName=skydeck-a UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null) NodeList=(null) ExitCode=0:0');
  assert.equal(job.JobState, 'PENDING');
  assert.equal(job.Reason, 'Resources');
  assert.equal(job.ExitCode, '0:0');
});

test('the slurm section of config.yaml is validated with its key path', () => {
  assert.deepEqual(parseSlurmConfig({ slurm_conf: '/etc/slurm/slurm.conf' }, '/h', '/h/server'), {
    slurmConf: '/etc/slurm/slurm.conf',
    sharedDir: '/h/server/slurm',
    partitions: undefined,
    account: undefined,
  });
  assert.throws(() => parseSlurmConfig({ shared_dir: 'relative' }, '/h', '/d'), /config\.yaml: slurm\.shared_dir: expected an absolute path/);
  assert.throws(() => parseSlurmConfig({ partiton: ['x'] }, '/h', '/d'), /config\.yaml: slurm: .*partiton/);
});
