// `check` and `gpus list` through the real CLI and server: every kind of infra with why not and how to
// enable it, the inventory's nodes (the local machine with its free disk and its clusters), no GPUs said
// plainly, and an SSH pool file or a slurm: section written while the server runs picked up at once.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AcceleratorOffer, InfraStatus } from '../../protocol/infra';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

describe('infra inventory', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args);
  const inventory = async () => JSON.parse((await cli('check', '--json')).stdout) as InfraStatus[];

  before(async () => {
    server = await startServer();
  });
  after(() => disposeWithWork(server));

  it('check lists every kind of infra, the ones that are off with why and how to enable them', async () => {
    const run = await cli('check');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^local\s+yes/m);
    assert.match(run.stdout, /^ssh\s+no\s+.*ssh_node_pools\.yaml does not exist; to enable: define node pools in .*ssh_node_pools\.yaml/m);
    assert.match(run.stdout, /^slurm\s+no\s+.*config\.yaml has no slurm: section; to enable: add a `slurm:` section/m);
    assert.match(run.stderr, /Enabled infra: local/);
  });

  it("the local machine is a node with its CPUs, memory, free disk and the clusters on it", async () => {
    const launched = await cli('launch', '-c', 'inv', '-y', '--', 'true');
    assert.equal(launched.code, 0, launched.stderr);
    const local = (await inventory()).find((i) => i.infra === 'local')!;
    assert.equal(local.nodes?.length, 1);
    const machine = local.nodes![0]!;
    assert.equal(machine.address, '127.0.0.1');
    assert.ok(machine.cpus! >= 1 && machine.memoryGiB! > 0, JSON.stringify(machine));
    assert.ok(machine.diskFreeGB! > 0, 'free disk where the data dir is');
    assert.deepEqual(machine.clusters, ['inv']);
    const verbose = await cli('check', '-v');
    assert.match(verbose.stdout, /^INFRA\s+NODE\s+ADDRESS\s+STATE\s+vCPUs\s+MEM\s+DISK FREE\s+GPUS\s+CLUSTERS$/m);
    assert.match(verbose.stdout, /^local\s+\S+\s+127\.0\.0\.1\s+up\s+\d+\s+[\d.]+ GiB\s+[\d.]+ GB\s+-\s+inv$/m);
  });

  it('gpus list says plainly when the enabled infra has no accelerators', async () => {
    const run = await cli('gpus', 'list');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^No accelerators on the enabled infra \(local\): local and SSH hosts are asked with nvidia-smi, Slurm nodes by their GRES\.$/m);
    const json = await cli('show-gpus', '--json');
    assert.deepEqual(JSON.parse(json.stdout) as AcceleratorOffer[], []);
    assert.match((await cli('gpus', 'list', 'A100')).stdout, /^No A100 accelerators/m);
    const unknown = await cli('gpus', 'list', '--infra', 'slurm/nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no infra named slurm\/nope/);
  });

  it('an ssh_node_pools.yaml and a slurm: section written while the server runs are picked up without a restart', async () => {
    const port = await freePort();
    writeFileSync(path.join(server.home, 'ssh_node_pools.yaml'), `late:\n  user: nobody\n  identity_file: ${path.join(server.home, 'no-key')}\n  hosts:\n    - {ip: 127.0.0.1, port: ${port}, name: gone}\n`);
    writeFileSync(path.join(server.home, 'config.yaml'), `slurm:\n  slurm_conf: ${path.join(server.home, 'missing-slurm.conf')}\n`);
    const infra = await inventory();
    const pool = infra.find((i) => i.infra === 'ssh/late');
    assert.ok(pool, JSON.stringify(infra));
    assert.equal(pool.enabled, false);
    assert.match(pool.reason ?? '', /no host reachable: gone:/);
    assert.deepEqual(
      pool.nodes?.map((n) => [n.name, n.address, n.state, n.usable]),
      [['gone', '127.0.0.1', 'unreachable', false]],
    );
    assert.ok(!infra.some((i) => i.infra === 'ssh'), 'the kind is no longer listed as off');
    const slurm = infra.filter((i) => i.infra.startsWith('slurm'));
    assert.ok(slurm.length > 0 && slurm.every((i) => !/no slurm: section/.test(i.reason ?? '')), JSON.stringify(slurm));
  });
});
