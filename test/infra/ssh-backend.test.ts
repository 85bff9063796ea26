// The SSH node-pool backend against real sshd hosts in network namespaces (see scripts/infra/lab-up.sh).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SshBackend, type SshClusterHandle, type SshJobHandle } from '../../server/infra/ssh/ssh-backend';
import { LogWriter } from '../../server/logs/log-writer';
import { clusterRecord, jobContext, jobSpec, lab, onHost, pgrepOn, placement, sh, startJobElsewhere, tempHome, waitFor, writePools } from './lab';

/** A backend on the lab pool with a provisioned cluster of `numNodes`; everything is torn down after. */
async function upCluster(t: Parameters<typeof tempHome>[0], name: string, numNodes: number) {
  const { home, dataDir, beforeRemove } = tempHome(t);
  mkdirSync(dataDir, { recursive: true });
  writePools(home);
  const backend = new SshBackend(home, dataDir);
  const cluster = clusterRecord(name, 'ssh/lab', numNodes);
  const log = new LogWriter(join(home, 'provision.log'));
  const up = await backend.provision(cluster, placement('ssh/lab', numNodes), log, AbortSignal.timeout(60_000));
  Object.assign(cluster, { nodes: up.nodes, resources: up.resources, handle: up.handle, status: 'UP' });
  beforeRemove(async () => {
    await backend.teardown(cluster, log);
    await log.close();
    backend.close();
  });
  return { home, dataDir, backend, cluster, hosts: (up.handle as SshClusterHandle).hosts.map((h) => h.ip) };
}

test('a 2-node task runs setup and run on both nodes with their rank, the node IPs, the node count, its workdir and file mounts', async (t) => {
  const { home, backend, cluster, hosts } = await upCluster(t, 'two-nodes', 2);
  assert.deepEqual(cluster.nodes.map((n) => n.rank), [0, 1]);
  const workdir = join(home, 'wd');
  mkdirSync(workdir);
  writeFileSync(join(workdir, 'data.txt'), 'from the workdir\n');
  const mounted = join(home, 'mounted.txt');
  writeFileSync(mounted, 'from a file mount\n');
  t.after(() => onHost(hosts[0]!, 'rm -rf ~/skydeck-test-mounts'));
  const ctx = jobContext(home, 'job1');
  const job = await backend.runJob(
    cluster,
    jobSpec(1, {
      workdir,
      fileMounts: { '~/skydeck-test-mounts/two-nodes/m.txt': mounted, 'skydeck-test-mounts/two-nodes/wd': workdir },
      envs: { GREETING: "it's here" },
      setup: 'echo "setup rank=$SKYPILOT_SETUP_NODE_RANK"',
      run: 'echo "rank=$SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES on $(hostname -I | tr -d " ")"; echo "ips=$(echo "$SKYPILOT_NODE_IPS" | paste -sd,)"; cat data.txt; echo "$GREETING"; cat ~/skydeck-test-mounts/two-nodes/m.txt ~/skydeck-test-mounts/two-nodes/wd/data.txt',
    }),
    ctx,
  );
  const outcome = await job.outcome;
  await ctx.close();
  const text = ctx.read();
  assert.deepEqual(outcome, { status: 'SUCCEEDED', exitCode: 0 }, text);
  assert.match(text, /^\(node-1, rank=1\) from a file mount\n\(node-1, rank=1\) from the workdir$/m);
  await ctx.running;
  assert.match(text, /^\(head, rank=0\) setup rank=0$/m);
  assert.match(text, /^\(node-1, rank=1\) setup rank=1$/m);
  assert.match(text, new RegExp(`^\\(head, rank=0\\) rank=0 of 2 on ${hosts[0]}$`, 'm'));
  assert.match(text, new RegExp(`^\\(node-1, rank=1\\) rank=1 of 2 on ${hosts[1]}$`, 'm'));
  assert.match(text, new RegExp(`^\\(node-1, rank=1\\) ips=${hosts[0]},${hosts[1]}$`, 'm'));
  assert.match(text, /^\(node-1, rank=1\) from the workdir$/m);
  assert.match(text, /^\(head, rank=0\) it's here$/m);
});

test('a setup failure on one node fails the job and no run starts', async (t) => {
  const { home, backend, cluster } = await upCluster(t, 'setup-fails', 2);
  const ctx = jobContext(home, 'job');
  const job = await backend.runJob(cluster, jobSpec(1, { setup: '[ "$SKYPILOT_SETUP_NODE_RANK" = 1 ] && exit 7; sleep 1', run: 'echo run-started' }), ctx);
  const outcome = await job.outcome;
  await ctx.close();
  assert.equal(outcome.status, 'FAILED');
  assert.equal(outcome.exitCode, 7);
  assert.match(outcome.reason ?? '', /setup failed on node-1 \(10\.231\.0\.\d+\) with exit code 7/);
  assert.doesNotMatch(ctx.read(), /run-started/);
});

test('a run failure on one node fails the job and stops the run on the other nodes', async (t) => {
  const { home, backend, cluster, hosts } = await upCluster(t, 'run-fails', 2);
  const ctx = jobContext(home, 'job');
  const job = await backend.runJob(cluster, jobSpec(1, { run: 'if [ "$SKYPILOT_NODE_RANK" = 1 ]; then sleep 1; exit 3; fi; exec -a sdk-runfail-head sleep 600' }), ctx);
  const outcome = await job.outcome;
  await ctx.close();
  assert.equal(outcome.status, 'FAILED');
  assert.equal(outcome.exitCode, 3);
  assert.match(outcome.reason ?? '', /run failed on node-1 .* with exit code 3/);
  assert.deepEqual(await pgrepOn(hosts[0]!, 'sdk-runfail-head'), []);
});

test('cancel stops the whole process group on every node', async (t) => {
  const { home, backend, cluster, hosts } = await upCluster(t, 'cancel-me', 2);
  const ctx = jobContext(home, 'job');
  // A child in the background of the run is part of the job too.
  const job = await backend.runJob(cluster, jobSpec(1, { run: '(exec -a "sdk-cancel-bg-$SKYPILOT_NODE_RANK" sleep 600) & echo started; exec -a "sdk-cancel-$SKYPILOT_NODE_RANK" sleep 600' }), ctx);
  await ctx.running;
  await waitFor('both nodes to start', () => (ctx.read().match(/started/g) ?? []).length === 2);
  assert.equal((await pgrepOn(hosts[0]!, 'sdk-cancel-')).length, 4, 'two processes per node before the cancel');
  const t0 = Date.now();
  await backend.cancelJob(cluster, job.handle);
  const outcome = await job.outcome;
  assert.ok(Date.now() - t0 < 3000, `cancel took ${Date.now() - t0} ms`);
  await ctx.close();
  assert.equal(outcome.status, 'CANCELLED');
  for (const [rank, ip] of hosts.entries()) {
    assert.deepEqual(await pgrepOn(ip, `sdk-cancel-${rank}`), [], `node ${rank} still runs the job`);
    assert.deepEqual(await pgrepOn(ip, `sdk-cancel-bg-${rank}`), [], `node ${rank} still runs the job's background child`);
    const pgid = (job.handle as SshJobHandle).nodes[rank]!.pgid;
    assert.equal((await onHost(ip, `pgrep -g ${pgid}`)).stdout, '', `process group ${pgid} on node ${rank}`);
  }
});

test('a host that drops mid-job fails the job naming the host, and the other nodes are stopped', async (t) => {
  const { home, backend, cluster, hosts } = await upCluster(t, 'drop-one', 2);
  const ctx = jobContext(home, 'job');
  const job = await backend.runJob(cluster, jobSpec(1, { run: 'echo started; exec -a "sdk-drop-$SKYPILOT_NODE_RANK" sleep 600' }), ctx);
  await waitFor('both nodes to start', () => (ctx.read().match(/started/g) ?? []).length === 2);
  const dropped = hosts[1]!;
  const ns = `sdk-h${lab.sshHosts.indexOf(dropped) + 1}`;
  const lost = (job.handle as SshJobHandle).nodes[1]!;
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

test('a job survives its server and a new server picks it up with the rest of its output', async (t) => {
  const { home, dataDir, backend, cluster } = await upCluster(t, 'survivor', 2);
  const spec = jobSpec(1, { run: 'for i in $(seq 1 30); do echo "line $i"; sleep 0.1; done' });
  const ctx = jobContext(home, 'job');
  const first = await startJobElsewhere('ssh', home, dataDir, cluster, spec, ctx.logPath);
  const handle = first.handle as SshJobHandle;
  await waitFor('some output', () => /line 5\n/.test(ctx.read()));
  first.kill();
  const resumed = await backend.resumeJob(cluster, spec, handle, ctx);
  const outcome = await resumed.outcome;
  await ctx.close();
  assert.deepEqual(outcome, { status: 'SUCCEEDED', exitCode: 0 });
  const text = ctx.read();
  for (let i = 1; i <= 30; i++) {
    for (const who of ['(head, rank=0)', '(node-1, rank=1)']) assert.ok(text.includes(`${who} line ${i}\n`), `${who} line ${i} missing:\n${text}`);
  }
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
  const a = clusterRecord('holder', 'ssh/lab', all);
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
