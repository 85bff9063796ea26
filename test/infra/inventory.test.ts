// The infra inventory on the lab through the real server and CLI: the SSH pool's hosts with their
// address, CPUs, memory, free disk and the cluster holding each; Slurm's partitions with node states
// and GRES (a node that declares gpu:t4:2); `gpus list` on them; a GPU task placed on the GRES node
// and shown as holding it while it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AcceleratorOffer, InfraStatus } from '../../protocol/infra';
import { disposeWithWork, runCli } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';
import { lab, slurmConfigYaml, waitFor, writePools, type SlurmTransportKind } from './lab';

async function serverOnLab(transport: SlurmTransportKind): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  writePools(home);
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), transport));
  return startServer({ home });
}

describe('infra inventory on the lab', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });
  const inventory = async () => {
    const run = await cli('check', '--json');
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as InfraStatus[];
  };

  before(async () => {
    server = await serverOnLab('commands');
  });
  after(() => disposeWithWork(server));

  it('lists the pool hosts and the Slurm partitions with their nodes, states and GRES', async () => {
    const infra = await inventory();
    const pool = infra.find((i) => i.infra === 'ssh/lab')!;
    assert.equal(pool.enabled, true, JSON.stringify(pool));
    assert.deepEqual(pool.nodes!.map((n) => [n.name, n.address, n.state, n.usable, n.clusters]), lab.sshHosts.map((h) => [h, h, 'up', true, []]));
    for (const host of pool.nodes!) assert.ok(host.cpus! >= 1 && host.memoryGiB! > 0 && host.diskFreeGB! > 0, JSON.stringify(host));

    const debug = infra.find((i) => i.infra === 'slurm/debug')!;
    const gpu = infra.find((i) => i.infra === 'slurm/gpu')!;
    assert.ok(debug.enabled && gpu.enabled, JSON.stringify(infra));
    assert.deepEqual(debug.nodes!.map((n) => n.name).sort(), ['n1', lab.slurmGpuNode].sort());
    assert.deepEqual(gpu.nodes!.map((n) => [n.name, n.gres?.replace(/\(.*\)$/, ''), n.accelerators, n.usable]), [[lab.slurmGpuNode, 'gpu:t4:2', { name: 'T4', count: 2 }, true]]);
    for (const node of [...debug.nodes!, ...gpu.nodes!]) {
      assert.match(node.state, /^(idle|mix|alloc)$/);
      assert.equal(node.cpus, lab.slurmCpus);
      assert.equal(node.diskFreeGB, 4, 'TmpDisk=4096 (MB) in the lab slurm.conf');
    }
    assert.equal(debug.nodes!.find((n) => n.name === 'n1')!.accelerators, undefined);

    const verbose = await cli('check', '-v');
    assert.match(verbose.stdout, new RegExp(`^slurm/gpu\\s+${lab.slurmGpuNode}\\s+-\\s+(idle|mix)\\s+${lab.slurmCpus}\\s+[\\d.]+ GiB\\s+4 GB\\s+T4:2\\s+-$`, 'm'));
    assert.match(verbose.stdout, new RegExp(`^ssh/lab\\s+${lab.sshHosts[0]!.replace(/\./g, '\\.')}\\s+${lab.sshHosts[0]!.replace(/\./g, '\\.')}\\s+up\\s`, 'm'));
  });

  it('gpus list shows the GRES GPUs per infra', async () => {
    const run = await cli('gpus', 'list');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^GPU\s+INFRA\s+QTY PER NODE\s+NODES \(USABLE\/ALL\)\s+TOTAL$/m);
    assert.match(run.stdout, /^T4\s+slurm\/debug\s+2\s+1\/1\s+2$/m);
    assert.match(run.stdout, /^T4\s+slurm\/gpu\s+2\s+1\/1\s+2$/m);
    const json = JSON.parse((await cli('gpus', 'list', 't4', '--infra', 'slurm/gpu', '--json')).stdout) as AcceleratorOffer[];
    assert.deepEqual(json, [{ name: 'T4', infra: 'slurm/gpu', perNode: [2], nodes: 1, usableNodes: 1, total: 2 }]);
    const none = await cli('gpus', 'list', '--infra', 'ssh');
    assert.match(none.stdout, /^No accelerators on the enabled infra \(ssh\/lab\)/m);
  });

  it('shows which cluster holds each SSH host, and which cluster a Slurm GPU job holds the node for', async () => {
    const ssh = await cli('launch', '-c', 'inv-ssh', '-y', '--infra', 'ssh/lab', '--', 'true');
    assert.equal(ssh.code, 0, ssh.stderr);
    const gpuJob = await cli('launch', '-c', 'inv-gpu', '-y', '-d', '--gpus', 'T4:1', '--', 'echo "gpus=$SKYPILOT_NUM_GPUS_PER_NODE"; sleep 120');
    assert.equal(gpuJob.code, 0, gpuJob.stderr);
    assert.match(gpuJob.stdout + gpuJob.stderr, /^slurm\/(debug|gpu)\s+1\s.*T4:2\s+✔/m);
    const held = await waitFor(
      'the GPU node to be held by inv-gpu',
      async () => {
        const infra = await inventory();
        const node = infra.find((i) => i.infra === 'slurm/gpu')!.nodes![0]!;
        return node.clusters.includes('inv-gpu') && infra;
      },
      60_000,
    );
    const hosts = held.find((i) => i.infra === 'ssh/lab')!.nodes!;
    const taken = hosts.filter((h) => h.clusters.length > 0);
    assert.deepEqual(taken.map((h) => [h.clusters, h.usable]), [[['inv-ssh'], false]]);
    assert.deepEqual(held.find((i) => i.infra === 'slurm/debug')!.nodes!.find((n) => n.name === 'n1')!.clusters, [], 'n1 runs nothing of ours');
    for (const name of ['inv-gpu', 'inv-ssh']) assert.equal((await cli('down', name, '-y')).code, 0);
  });

  it('slurmrestd answers the same nodes and GRES as the commands', async () => {
    const rest = await serverOnLab('rest');
    try {
      const run = await runCli(rest, ['check', '--json'], { timeoutMs: 60_000 });
      const gpu = (JSON.parse(run.stdout) as InfraStatus[]).find((i) => i.infra === 'slurm/gpu');
      assert.deepEqual(gpu?.nodes?.map((n) => [n.name, n.accelerators, n.usable]), [[lab.slurmGpuNode, { name: 'T4', count: 2 }, true]], run.stdout);
    } finally {
      await rest.dispose();
    }
  });
});
