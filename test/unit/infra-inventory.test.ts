// The infra inventory: accelerators summed across infra for `gpus list`, nodes' clusters filled from
// the cluster list, and disk_size refused with the best figure an infra has.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceleratorOffers, type InfraNode, type InfraStatus } from '../../protocol/infra';
import type { Cluster } from '../../protocol/model';
import { diskVerdict, shortfall } from '../../server/infra/fit';
import { withClusters } from '../../server/infra/inventory';
import { parseListeningPorts, portsInUse } from '../../server/infra/listening-ports';

const node = (name: string, extra: Partial<InfraNode> = {}): InfraNode => ({ name, state: 'idle', usable: true, clusters: [], ...extra });

test('gpus list sums each accelerator type per infra, over enabled infra only', () => {
  const infra: InfraStatus[] = [
    { infra: 'local', enabled: true, nodes: [node('vm')] },
    {
      infra: 'slurm/gpu',
      enabled: true,
      nodes: [node('g1', { accelerators: { name: 'T4', count: 2 } }), node('g2', { accelerators: { name: 'T4', count: 4 }, usable: false, state: 'down*' }), node('g3', { accelerators: { name: 'A100', count: 8 } })],
    },
    { infra: 'ssh/lab', enabled: true, nodes: [node('h1', { accelerators: { name: 'T4', count: 1 } })] },
    { infra: 'ssh/off', enabled: false, nodes: [node('x', { accelerators: { name: 'H100', count: 8 } })] },
  ];
  assert.deepEqual(acceleratorOffers(infra), [
    { name: 'A100', infra: 'slurm/gpu', perNode: [8], nodes: 1, usableNodes: 1, total: 8 },
    { name: 'T4', infra: 'slurm/gpu', perNode: [2, 4], nodes: 2, usableNodes: 1, total: 6 },
    { name: 'T4', infra: 'ssh/lab', perNode: [1], nodes: 1, usableNodes: 1, total: 1 },
  ]);
  assert.deepEqual(acceleratorOffers([{ infra: 'local', enabled: true, nodes: [node('vm')] }]), []);
});

test("a node's clusters come from the clusters of its infra that list it, beside the backend's own", () => {
  const cluster = (name: string, infra: string, hosts: string[]): Cluster => ({
    name,
    infra,
    resources: { infra },
    numNodes: hosts.length,
    status: 'UP',
    owner: { id: 'abcd1234', name: 't' },
    launchedAt: 0,
    nodes: hosts.map((host, rank) => ({ rank, ip: '127.0.0.1', host })),
  });
  const statuses: InfraStatus[] = [
    { infra: 'local', enabled: true, nodes: [node('vm')] },
    { infra: 'ssh/lab', enabled: true, nodes: [node('h1', { clusters: ['b'] }), node('h2')] },
    { infra: 'slurm', enabled: false },
  ];
  const filled = withClusters(statuses, [cluster('a', 'local', ['vm']), cluster('c', 'local', ['vm']), cluster('b', 'ssh/lab', ['h1']), cluster('d', 'ssh/other', ['h2'])]);
  assert.deepEqual(filled[0]!.nodes![0]!.clusters, ['a', 'c']);
  assert.deepEqual(filled[1]!.nodes![0]!.clusters, ['b']);
  assert.deepEqual(filled[1]!.nodes![1]!.clusters, [], 'a host of the same name in another pool is another host');
  assert.equal(filled[2]!.nodes, undefined);
});

test('disk_size is free disk where the cluster lives: refused with the largest figure, or when unknown', () => {
  const ask = { numNodes: 1, diskSizeGB: 500 };
  const hosts = [{ cpus: 2, memoryGiB: 4, diskFreeGB: 80 }, { cpus: 2, memoryGiB: 4, diskFreeGB: 12.5 }];
  assert.deepEqual(diskVerdict(ask, 'ssh/lab', hosts, 'host'), { infra: 'ssh/lab', key: 'disk_size', reason: 'disk_size 500 GB: the largest host has 80 GB free' });
  assert.equal(diskVerdict({ numNodes: 1, diskSizeGB: 50 }, 'ssh/lab', hosts, 'host'), undefined);
  assert.equal(diskVerdict({ numNodes: 1 }, 'ssh/lab', hosts, 'host'), undefined);
  assert.match(diskVerdict(ask, 'local', [hosts[0]!], 'machine')!.reason, /^disk_size 500 GB: this machine has 80 GB free$/);
  assert.match(diskVerdict(ask, 'slurm/debug', [{ cpus: 2, memoryGiB: 2 }], 'node', 'TmpDisk unset')!.reason, /^disk_size 500 GB: TmpDisk unset$/);
  // Per node: the host with 12.5 GB free cannot be one of the cluster's nodes.
  assert.match(shortfall({ numNodes: 2, diskSizeGB: 50 }, hosts[1]!) ?? '', /12\.5 GB disk free, 50 asked/);
  assert.equal(shortfall({ numNodes: 2, diskSizeGB: 50 }, hosts[0]!), undefined);
});

test("listening ports are read from the kernel's tables, LISTEN sockets only, IPv4 and IPv6", () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
    '   1: 0100007F:B3B0 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1',
  ].join('\n');
  const tcp6 = '   0: 00000000000000000000000000000000:2329 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1';
  assert.deepEqual([...parseListeningPorts(`${tcp}\n${tcp6}`)].sort(), [8080, 9001]);
  assert.deepEqual(portsInUse([8080, 8081], parseListeningPorts(tcp)), [8080]);
});
