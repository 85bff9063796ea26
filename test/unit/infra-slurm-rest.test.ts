// slurmrestd's answers mapped onto what the Slurm commands' parsers give, and the `slurm.rest` config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeUsable, parseSinfo, sbatchArgs } from '../../server/infra/slurm/slurm-cli';
import { parseSlurmConfig } from '../../server/infra/slurm/slurm-config';
import { jwtExpiry, restJobInfo, restNodes, restSubmission, sinfoState } from '../../server/infra/slurm/slurm-rest';
import type { SlurmJobRequest } from '../../server/infra/slurm/slurm-transport';

test('slurmrestd nodes become the same entries as sinfo -N lines, one per node and partition', () => {
  const nodes = restNodes(
    [
      { name: 'n1', state: 'idle', state_flags: [], cpus: 2, real_memory: 2000, gres: '', partitions: ['debug'] },
      { name: 'g1', state: 'mixed', state_flags: [], cpus: 32, real_memory: 256000, gres: 'gpu:a100:4(S:0-1)', partitions: ['gpu', 'debug'] },
    ],
    [
      { name: 'debug', flags: ['default'] },
      { name: 'gpu', flags: [] },
    ],
  );
  assert.deepEqual(nodes, [
    ...parseSinfo('n1|debug*|2|2000|(null)|idle\n'),
    ...parseSinfo('g1|gpu|32|256000|gpu:a100:4(S:0-1)|mix\ng1|debug*|32|256000|gpu:a100:4(S:0-1)|mix\n'),
  ]);
});

test("slurmrestd node states and flags read as sinfo's short states, usable or not alike", () => {
  const cases: [string, string[], string, boolean][] = [
    ['idle', [], 'idle', true],
    ['allocated', [], 'alloc', true],
    ['mixed', [], 'mix', true],
    ['down', ['NOT_RESPONDING'], 'down*', false],
    ['idle', ['DRAIN'], 'drain', false],
    ['mixed', ['DRAIN'], 'drng', false],
    ['idle', ['MAINTENANCE'], 'maint', false],
    ['idle', ['FAIL'], 'fail', false],
    ['idle', ['POWERED_DOWN'], 'idle~', true],
    ['unknown', [], 'unk', false],
  ];
  for (const [state, flags, short, usable] of cases) {
    assert.equal(sinfoState(state, flags), short, `${state} ${flags.join(',')}`);
    assert.equal(nodeUsable(sinfoState(state, flags)), usable, short);
  }
});

test("a slurmrestd job reads as scontrol's JobState, Reason and NodeList", () => {
  assert.deepEqual(restJobInfo({ job_id: 7, name: 'skydeck-a', user_name: 'root', job_state: 'PENDING', state_reason: 'Resources', nodes: '' }), { state: 'PENDING', reason: 'Resources', nodeList: '' });
  assert.deepEqual(restJobInfo({ job_id: 7, name: 'skydeck-a', user_name: 'root', job_state: 'NODE_FAIL', state_reason: '', nodes: 'n[1-2]' }), { state: 'NODE_FAIL', reason: 'None', nodeList: 'n[1-2]' });
});

test('a job is submitted to slurmrestd with the options sbatch gets', () => {
  const job: SlurmJobRequest = { scriptFile: '/s/j/batch.sh', script: '#!/bin/bash\ntrue\n', name: 'skydeck-c', partition: 'gpu', nodes: 2, output: '/s/j/batch.log', chdir: '/s/j', cpusPerTask: 4, memoryMb: 2048, gres: 'gpu:a100:1', account: 'research' };
  assert.deepEqual(sbatchArgs(job), ['--parsable', '--export=NONE', '--no-requeue', '--job-name=skydeck-c', '--partition=gpu', '--nodes=2', '--ntasks-per-node=1', '--output=/s/j/batch.log', '--chdir=/s/j', '--cpus-per-task=4', '--mem=2048M', '--gres=gpu:a100:1', '--account=research', '/s/j/batch.sh']);
  const { script, job: props } = restSubmission(job);
  assert.equal(script, job.script);
  assert.deepEqual(
    { ...props, environment: undefined },
    { name: 'skydeck-c', partition: 'gpu', nodes: '2', tasks_per_node: 1, no_requeue: true, standard_output: '/s/j/batch.log', current_working_directory: '/s/j', environment: undefined, cpus_per_task: 4, memory_per_node: 2048, gres: 'gpu:a100:1', account: 'research' },
  );
  assert.match((props.environment as { PATH: string }).PATH, /\/usr\/bin/);
  const bare = restSubmission({ ...job, cpusPerTask: undefined, memoryMb: undefined, gres: undefined, account: undefined }).job;
  for (const key of ['cpus_per_task', 'memory_per_node', 'gres', 'account']) assert.equal(key in bare, false, key);
});

test("a JWT's expiry is read from its claims; anything else has none", () => {
  const claims = Buffer.from(JSON.stringify({ exp: 1_800_000_000, sun: 'root' })).toString('base64url');
  assert.equal(jwtExpiry(`eyJhbGciOiJIUzI1NiJ9.${claims}.sig`), 1_800_000_000_000);
  assert.equal(jwtExpiry('not a token'), undefined);
});

test('slurm.rest in config.yaml is validated key by key and filled with defaults', () => {
  const ok = parseSlurmConfig({ rest: { url: 'http://127.0.0.1:6820/', jwt_file: '/etc/skydeck/slurm.jwt' } }, '/h', '/h/server', 'alice');
  assert.deepEqual(ok.rest, { url: 'http://127.0.0.1:6820', jwtFile: '/etc/skydeck/slurm.jwt', user: 'alice', api: 'v0.0.38' });
  assert.equal(parseSlurmConfig({}, '/h', '/d').rest, undefined);
  const full = parseSlurmConfig({ rest: { url: 'https://slurm.example:6820', jwt_file: '/t', user: 'svc', api: 'v0.0.38' } }, '/h', '/d');
  assert.deepEqual(full.rest, { url: 'https://slurm.example:6820', jwtFile: '/t', user: 'svc', api: 'v0.0.38' });
  const bad: [unknown, RegExp][] = [
    [{ url: 'localhost:6820', jwt_file: '/t' }, /\/h\/config\.yaml: slurm\.rest\.url: expected an http:\/\/ or https:\/\/ URL/],
    [{ url: 'not a url', jwt_file: '/t' }, /\/h\/config\.yaml: slurm\.rest\.url: expected an http:\/\/ or https:\/\/ URL such as http:\/\/127\.0\.0\.1:6820/],
    [{ url: 'http://x:1', jwt_file: 'token' }, /\/h\/config\.yaml: slurm\.rest\.jwt_file: expected an absolute path/],
    [{ url: 'http://x:1' }, /\/h\/config\.yaml: slurm\.rest\.jwt_file: /],
    [{ url: 'http://x:1', jwt_file: '/t', api: 'v0.0.40' }, /\/h\/config\.yaml: slurm\.rest\.api: supported: v0\.0\.38/],
    [{ url: 'http://x:1', jwt_file: '/t', user: 'a b' }, /\/h\/config\.yaml: slurm\.rest\.user: a user name/],
    [{ url: 'http://x:1', jwt_file: '/t', token: 'abc' }, /\/h\/config\.yaml: slurm\.rest: .*token/],
  ];
  for (const [rest, message] of bad) assert.throws(() => parseSlurmConfig({ rest }, '/h', '/d'), message, JSON.stringify(rest));
});
