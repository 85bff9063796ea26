import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePools, PoolConfigError } from '../../server/infra/ssh/pool-config';

const FILE = '/home/me/.skydeck/ssh_node_pools.yaml';

test('a pool resolves per-host overrides over pool defaults', () => {
  const pools = parsePools(
    ['gpus:', '  user: ubuntu', '  identity_file: keys/id', '  hosts:', '    - 10.0.0.1', '    - ip: 10.0.0.2', '      name: big', '      user: admin', '      port: 2222'].join('\n'),
    FILE,
  );
  assert.deepEqual(pools, [
    {
      name: 'gpus',
      hosts: [
        { name: '10.0.0.1', ip: '10.0.0.1', port: 22, user: 'ubuntu', identityFile: '/home/me/.skydeck/keys/id' },
        { name: 'big', ip: '10.0.0.2', port: 2222, user: 'admin', identityFile: '/home/me/.skydeck/keys/id' },
      ],
    },
  ]);
});

test('a misspelt key is reported with the file and its line', () => {
  const text = ['lab:', '  user: u', '  identity_file: /k', '  hosts:', '    - ip: 10.0.0.1', '      prot: 2222'].join('\n');
  assert.throws(() => parsePools(text, FILE), (err: Error) => err instanceof PoolConfigError && /ssh_node_pools\.yaml:5: lab\.hosts\.0: .*\(prot\)/.test(err.message));
});

test('a host without a user or identity file is refused naming the host and its line', () => {
  const text = ['lab:', '  identity_file: /k', '  hosts:', '    - 10.0.0.1'].join('\n');
  assert.throws(() => parsePools(text, FILE), /ssh_node_pools\.yaml:4: lab\.hosts\.0: no user for 10\.0\.0\.1/);
});

test('a port out of range and broken YAML are reported with their line', () => {
  assert.throws(() => parsePools(['lab:', '  user: u', '  identity_file: /k', '  port: 70000', '  hosts: [a]'].join('\n'), FILE), /:4: lab\.port: /);
  assert.throws(() => parsePools('lab:\n  hosts: [a\n', FILE), /ssh_node_pools\.yaml:\d+: not valid YAML/);
});

test('the same host twice in a pool is refused', () => {
  assert.throws(() => parsePools(['lab:', '  user: u', '  identity_file: /k', '  hosts: [10.0.0.1, 10.0.0.1]'].join('\n'), FILE), /lists host 10\.0\.0\.1 twice/);
});
