// What only the SSH node-pool backend does, against real sshd hosts in network namespaces (see
// scripts/infra/lab-up.sh): hosts that drop, hosts held by one cluster, host keys. The scenarios every
// backend shares are in backend-contract.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClusterRecord } from '../../server/infra/backend';
import { SshBackend, type SshClusterHandle } from '../../server/infra/ssh/ssh-backend';
import { LogWriter } from '../../server/logs/log-writer';
import { clusterRecord, jobContext, jobSpec, lab, onHost, pgrepOn, placement, sh, tempHome, waitFor, writePools } from './lab';

/** A backend on the lab pool with a provisioned cluster of `numNodes`; everything is torn down after. */
async function upCluster(t: Parameters<typeof tempHome>[0], name: string, numNodes: number) {
  const { home, dataDir, beforeRemove } = tempHome(t);
  mkdirSync(dataDir, { recursive: true });
  writePools(home);
  const backend = new SshBackend(home, dataDir);
  const cluster: ClusterRecord<SshClusterHandle> = clusterRecord(name, 'ssh/lab', numNodes);
  const log = new LogWriter(join(home, 'provision.log'));
  const up = await backend.provision(cluster, placement('ssh/lab', numNodes), log, AbortSignal.timeout(60_000));
  Object.assign(cluster, { nodes: up.nodes, resources: up.resources, handle: up.handle, status: 'UP' });
  beforeRemove(async () => {
    await backend.teardown(cluster, log);
    await log.close();
    await backend.close();
  });
  return { home, dataDir, backend, cluster, hosts: up.handle.hosts.map((h) => h.ip) };
}

test('a host that drops mid-job fails the job naming the host, and the other nodes are stopped', async (t) => {
  const { home, backend, cluster, hosts } = await upCluster(t, 'drop-one', 2);
  const ctx = jobContext(home, 'job');
  const job = await backend.runJob(cluster, jobSpec(1, { run: 'echo started; exec -a "sdk-drop-$SKYPILOT_NODE_RANK" sleep 600' }), ctx);
  await waitFor('both nodes to start', () => (ctx.read().match(/started/g) ?? []).length === 2);
  const dropped = hosts[1]!;
  const ns = `sdk-h${lab.sshHosts.indexOf(dropped) + 1}`;
  const lost = job.handle.nodes[1]!;
  await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
  const t0 = Date.now();
  let outcome;
  try {
    outcome = await job.outcome;
  } finally {
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    // The "powered off" host's processes share this machine's PID space: end them by their group.
    await sh('kill', ['-KILL', '--', `-${lost.pgid}`]);
  }
  const noticedMs = Date.now() - t0;
  await ctx.close();
  assert.equal(outcome.status, 'FAILED');
  assert.match(outcome.reason ?? '', new RegExp(`node-1 \\(${dropped.replace(/\./g, '\\.')}\\) dropped`));
  assert.ok(noticedMs < 10_000, `noticed after ${noticedMs} ms`);
  assert.deepEqual(await pgrepOn(hosts[0]!, 'sdk-drop-0'), [], 'the head node still runs the job');
});

test('hosts are held by one cluster at a time and released by teardown', async (t) => {
  const { home, dataDir } = tempHome(t);
  mkdirSync(dataDir, { recursive: true });
  writePools(home);
  const backend = new SshBackend(home, dataDir);
  t.after(() => backend.close());
  const log = new LogWriter(join(home, 'log'));
  t.after(() => log.close());
  const all = lab.sshHosts.length;
  const a: ClusterRecord<SshClusterHandle> = clusterRecord('holder', 'ssh/lab', all);
  const up = await backend.provision(a, placement('ssh/lab', all), log, AbortSignal.timeout(30_000));
  Object.assign(a, { nodes: up.nodes, handle: up.handle });
  const ask = { infra: 'ssh/lab', numNodes: 1 };
  const refused = await backend.candidates(ask);
  assert.equal(refused.placements.length, 0);
  assert.match(refused.refusals[0]!.reason, /taken by cluster holder/);
  await backend.teardown(a, log);
  assert.equal((await onHost(lab.sshHosts[0]!, 'ls ~/.skydeck/clusters/holder 2>&1 || true')).stdout.includes('No such file'), true);
  const again = await backend.candidates(ask);
  assert.equal(again.placements.length, 1);
  assert.equal(again.placements[0]!.infra, 'ssh/lab');
});

test('a host whose key changed since it was first seen is refused', async (t) => {
  const { home, dataDir } = tempHome(t);
  mkdirSync(join(dataDir, 'ssh'), { recursive: true });
  writePools(home, lab.sshHosts.slice(0, 1));
  writeFileSync(join(dataDir, 'ssh', 'known_hosts.json'), JSON.stringify({ [`${lab.sshHosts[0]}:22`]: 'SHA256:someone-else' }));
  const backend = new SshBackend(home, dataDir);
  t.after(() => backend.close());
  const [status] = await backend.check();
  assert.equal(status!.enabled, false);
  assert.match(status!.reason ?? '', /host key of 10\.231\.0\.11:22 changed/);
});
