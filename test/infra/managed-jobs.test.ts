// Managed jobs recovering from real infra failures on the lab (scripts/infra/lab-up.sh), through the real
// API server: an SSH host cut off (its namespace's link taken down), the processes of one node of a
// 2-node job killed, and a Slurm node set down mid-run.
// Each time the job goes RECOVERING, gets a new cluster on nodes that did not fail, runs again with the
// same SKYPILOT_TASK_ID and succeeds; the failed cluster is torn down. Time from the failure until the
// job is RUNNING again is printed (bench/jobs-recovery.ts measures it apart).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ManagedJob, ManagedJobStatus } from '../../protocol/jobs';
import { startServer, type TestServer } from '../helpers/server';
import { lab, sh, slurmConfigYaml, waitFor, writePools } from './lab';

const slurmEnv = () => ({ SLURM_CONF: lab.slurmConf });

async function serverOnLab(): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  writePools(home);
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
  return startServer({ home, env: { SKYDECK_JOBS_RETRY_MS: '500' } });
}

/** Cancels every managed job (its clusters go with it), then stops the server and removes its home. */
async function dispose(server: TestServer): Promise<void> {
  try {
    await server.waitFor(await server.submit('jobs.cancel', { all: true, allUsers: true }), 60);
    const { body } = await server.json<{ clusters: { name: string }[] }>('/api/clusters');
    for (const c of body.clusters) await server.waitFor(await server.submit('down', { clusterName: c.name }), 60);
  } finally {
    await server.dispose();
  }
}

async function launch(server: TestServer, task: unknown): Promise<number> {
  const done = await server.waitFor(await server.submit('jobs.launch', { tasks: [task] }));
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
  return (done.result as { jobId: number }).jobId;
}

const jobOf = async (server: TestServer, id: number) => (await server.json<{ jobs: ManagedJob[] }>('/api/jobs?all_users=1')).body.jobs.find((j) => j.id === id)!;
const until = (server: TestServer, id: number, statuses: ManagedJobStatus[], timeoutMs = 60_000) =>
  waitFor(`managed job ${id} to be ${statuses.join('/')}`, async () => {
    const j = await jobOf(server, id);
    return statuses.includes(j.status) ? j : undefined;
  }, timeoutMs);
const jobLog = (server: TestServer, id: number, file = 'job.log') => {
  try {
    return readFileSync(join(server.dataDir, 'managed-jobs', String(id), file), 'utf8');
  } catch {
    return '';
  }
};
const clusterNames = async (server: TestServer) => (await server.json<{ clusters: { name: string }[] }>('/api/clusters')).body.clusters.map((c) => c.name);

/** Ticks long enough to be cut off mid-run, short enough that processes left on a cut-off host end by themselves. */
const ticking = (where: string, ticks = 16) => `echo "start $SKYPILOT_TASK_ID on ${where}"; for i in $(seq 1 ${ticks}); do echo tick $i; sleep 0.5; done`;

describe('managed jobs recovering on the lab infra', () => {
  it('an SSH host cut off mid-run: the job is recovered onto another host of the pool', async () => {
    const server = await serverOnLab();
    let ns: string | undefined;
    try {
      const id = await launch(server, { resources: { infra: 'ssh/lab' }, run: ticking('$SKYPILOT_NODE_IPS') });
      await until(server, id, ['RUNNING']);
      await waitFor('tick 2', () => jobLog(server, id).includes('tick 2'));
      const host = /start \S+ on (\S+)/.exec(jobLog(server, id))![1]!;
      ns = `sdk-h${lab.sshHosts.indexOf(host) + 1}`;
      const first = (await jobOf(server, id)).tasks[0]!.cluster!;
      await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
      const cutAt = Date.now();
      await until(server, id, ['RECOVERING'], 30_000);
      const again = await until(server, id, ['RUNNING'], 60_000);
      console.log(`[managed-jobs] ssh: host cut off until RUNNING again: ${((Date.now() - cutAt) / 1000).toFixed(1)} s`);
      assert.notEqual(again.tasks[0]!.cluster, first);
      const done = await until(server, id, ['SUCCEEDED', 'FAILED', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'], 60_000);
      assert.equal(done.status, 'SUCCEEDED', jobLog(server, id, 'controller.log'));
      assert.equal(done.tasks[0]!.recoveryCount, 1);
      const starts = [...jobLog(server, id).matchAll(/^start (\S+) on (\S+)$/gm)];
      assert.equal(starts.length, 2, jobLog(server, id));
      assert.equal(starts[0]![1], starts[1]![1], 'the same SKYPILOT_TASK_ID');
      assert.notEqual(starts[1]![2], host, 'recovered onto another host');
      assert.match(jobLog(server, id), /tick 16/);
      assert.deepEqual((await clusterNames(server)).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], 'both clusters are torn down');
    } finally {
      if (ns) await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await dispose(server);
    }
  });

  it("a 2-node job whose processes are killed on node 1 only: recovered onto a new 2-node cluster", async () => {
    const server = await serverOnLab();
    try {
      const id = await launch(server, { num_nodes: 2, resources: { infra: 'ssh/lab' }, run: ticking('rank $SKYPILOT_NODE_RANK', 8) }); // killed on purpose: no need to outlast a cut-off host
      const running = await until(server, id, ['RUNNING']);
      const first = running.tasks[0]!.cluster!;
      await waitFor('tick 2 on both nodes', () => /\(head, rank=0\) tick 2/.test(jobLog(server, id)) && /\(node-1, rank=1\) tick 2/.test(jobLog(server, id)));
      // From outside SkyDeck, as an OOM killer or an operator would: the whole process group of the job's
      // driver on node 1 (the lab's hosts share one PID space and the lab user's home).
      const home = (await sh('getent', ['passwd', lab.sshUser])).stdout.split(':')[5]!;
      const jobs = join(home, '.skydeck', 'clusters', first, 'node-1', 'jobs');
      const pgid = Number(readFileSync(join(jobs, readdirSync(jobs).at(-1)!, 'pgid'), 'utf8'));
      process.kill(-pgid, 'SIGKILL');
      const killedAt = Date.now();
      await until(server, id, ['RECOVERING'], 30_000);
      const again = await until(server, id, ['RUNNING'], 60_000);
      console.log(`[managed-jobs] ssh: node-1 processes killed until RUNNING again: ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
      assert.notEqual(again.tasks[0]!.cluster, first);
      const second = (await server.json<{ clusters: { name: string; nodes: unknown[] }[] }>('/api/clusters')).body.clusters.find((c) => c.name === again.tasks[0]!.cluster);
      assert.equal(second?.nodes.length, 2, 'the new cluster has 2 nodes');
      const done = await until(server, id, ['SUCCEEDED', 'FAILED', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'], 60_000);
      assert.equal(done.status, 'SUCCEEDED', jobLog(server, id, 'controller.log'));
      assert.equal(done.tasks[0]!.recoveryCount, 1);
      assert.equal(done.tasks[0]!.restartsOnErrors, 0, 'a node killed from outside is not a failure of the code');
      assert.match(jobLog(server, id, 'controller.log'), /lost its cluster .*node-1.*killed/);
      const starts = [...jobLog(server, id).matchAll(/start (\S+) on rank (\d)$/gm)];
      assert.deepEqual(starts.map((m) => m[2]).sort(), ['0', '0', '1', '1'], jobLog(server, id));
      assert.equal(new Set(starts.map((m) => m[1])).size, 1, 'the same SKYPILOT_TASK_ID on every node of both clusters');
      assert.equal(jobLog(server, id).match(/tick 8$/gm)?.length, 2, 'both nodes of the new cluster ran to the end');
      assert.deepEqual((await clusterNames(server)).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], 'the old cluster and the new one are torn down');
    } finally {
      await dispose(server);
    }
  });

  it('a Slurm node set down mid-run (NODE_FAIL): the job is recovered on the node still up', async () => {
    const server = await serverOnLab();
    let node: string | undefined;
    try {
      const id = await launch(server, { resources: { infra: 'slurm/debug' }, run: ticking('$SLURMD_NODENAME') });
      await until(server, id, ['RUNNING']);
      await waitFor('tick 2', () => jobLog(server, id).includes('tick 2'));
      node = /start \S+ on (\S+)/.exec(jobLog(server, id))![1]!;
      await sh('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=skydeck-managed-job-test'], slurmEnv());
      // The lab's slurm.conf has ReturnToService=2, which would take the node back as soon as its slurmd
      // registers again; a failed node stays out of service, as a real one does until someone resumes it.
      await sh('scontrol', ['update', `nodename=${node}`, 'state=drain', 'reason=skydeck-managed-job-test'], slurmEnv());
      const downAt = Date.now();
      await until(server, id, ['RECOVERING'], 30_000);
      await until(server, id, ['RUNNING'], 60_000);
      console.log(`[managed-jobs] slurm: node down until RUNNING again: ${((Date.now() - downAt) / 1000).toFixed(1)} s`);
      const done = await until(server, id, ['SUCCEEDED', 'FAILED', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'], 60_000);
      assert.equal(done.status, 'SUCCEEDED', jobLog(server, id, 'controller.log'));
      assert.equal(done.tasks[0]!.recoveryCount, 1);
      assert.match(jobLog(server, id, 'controller.log'), /NODE_FAIL/);
      const starts = [...jobLog(server, id).matchAll(/^start (\S+) on (\S+)$/gm)];
      assert.equal(starts.length, 2, jobLog(server, id));
      assert.equal(starts[0]![1], starts[1]![1], 'the same SKYPILOT_TASK_ID');
      assert.notEqual(starts[1]![2], node, 'recovered on the other node');
    } finally {
      if (node) await sh('scontrol', ['update', `nodename=${node}`, 'state=resume'], slurmEnv());
      await dispose(server);
    }
  });

  it('a pool with no host left: the job is recovered onto another infra', async () => {
    const server = await serverOnLab();
    let ns: string | undefined;
    try {
      // Another cluster holds every host of the pool but one.
      const holder = await server.waitFor(await server.submit('launch', { clusterName: 'holder', task: { num_nodes: lab.sshHosts.length - 1, resources: { infra: 'ssh/lab' }, run: 'true' } }), 60);
      assert.equal(holder.status, 'SUCCEEDED', JSON.stringify(holder.error));
      const id = await launch(server, { resources: { any_of: [{ infra: 'ssh/lab' }, { infra: 'slurm/debug' }] }, run: ticking('$SKYPILOT_CLUSTER_INFO') });
      const running = await until(server, id, ['RUNNING']);
      assert.equal(running.tasks[0]!.infra, 'ssh/lab', 'the pool is preferred while it has a host');
      await waitFor('tick 2', () => jobLog(server, id).includes('tick 2'));
      const cluster = (await server.json<{ clusters: { name: string; nodes: { ip: string }[] }[] }>('/api/clusters')).body.clusters.find((c) => c.name === running.tasks[0]!.cluster)!;
      ns = `sdk-h${lab.sshHosts.indexOf(cluster.nodes[0]!.ip) + 1}`;
      await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
      await until(server, id, ['RECOVERING'], 30_000);
      const again = await until(server, id, ['RUNNING'], 60_000);
      assert.equal(again.tasks[0]!.infra, 'slurm/debug', jobLog(server, id, 'controller.log'));
      const done = await until(server, id, ['SUCCEEDED', 'FAILED', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER'], 60_000);
      assert.equal(done.status, 'SUCCEEDED', jobLog(server, id, 'controller.log'));
    } finally {
      if (ns) await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await dispose(server);
    }
  });
});
