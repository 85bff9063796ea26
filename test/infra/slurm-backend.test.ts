// What only the Slurm backend does, against a real slurmctld with two slurmd nodes (see
// scripts/infra/lab-up.sh), through each transport (the Slurm commands, and slurmrestd with JWT auth):
// queue reasons, nodes going down, a controller restart, a port check cut short by a server restart, a
// port held by a job that is ending, partitions, slurmrestd failures. The scenarios every backend shares
// are in backend-contract.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ClusterRecord } from '../../server/infra/backend';
import { SlurmBackend, type SlurmClusterHandle } from '../../server/infra/slurm/slurm-backend';
import { LogWriter } from '../../server/logs/log-writer';
import { clusterRecord, jobContext, jobSpec, lab, sh, slurmConfigYaml, tempHome, waitFor, type SlurmTransportKind } from './lab';

const slurmEnv = () => ({ SLURM_CONF: lab.slurmConf });
const squeue = async (...args: string[]) => (await sh('squeue', ['-h', '-o', '%i %T', ...args], slurmEnv())).stdout.trim();
/** Processes on this machine (where both lab slurmd nodes run) whose command line contains `text`. */
const pgrep = async (text: string) => (await sh('pgrep', ['-f', text])).stdout.trim();

function slurmHome(t: Parameters<typeof tempHome>[0], transport: SlurmTransportKind, rest?: { url?: string; jwtFile?: string }) {
  const { home, dataDir, beforeRemove } = tempHome(t);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'shared'), transport, rest));
  return { home, dataDir, beforeRemove, backend: new SlurmBackend(home, dataDir) };
}

async function upCluster(t: Parameters<typeof tempHome>[0], transport: SlurmTransportKind, name: string, numNodes: number) {
  const { home, dataDir, backend, beforeRemove } = slurmHome(t, transport);
  const cluster: ClusterRecord<SlurmClusterHandle> = clusterRecord(name, 'slurm', numNodes);
  const log = new LogWriter(join(home, 'provision.log'));
  const { placements } = await backend.candidates({ infra: 'slurm', numNodes });
  assert.equal(placements[0]?.infra, 'slurm/debug');
  const up = await backend.provision(cluster, placements[0]!, log);
  Object.assign(cluster, { nodes: up.nodes, resources: up.resources, handle: up.handle, infra: 'slurm/debug', status: 'UP' });
  beforeRemove(async () => {
    await backend.teardown(cluster, log);
    await log.close();
  });
  return { home, dataDir, backend, cluster };
}

for (const transport of ['commands', 'rest'] as const) {
  describe(`Slurm backend through ${transport === 'rest' ? 'slurmrestd' : 'the commands'}`, () => {
    test('a job waiting in the Slurm queue says why, then runs', async (t) => {
      const { home, backend, cluster } = await upCluster(t, transport, `sl-queue-${transport}`, 2);
      const busy = jobContext(home, 'busy');
      const first = await backend.runJob(cluster, jobSpec(1, { run: 'sleep 3' }), busy);
      await busy.running;
      const ctx = jobContext(home, 'waiting');
      const second = await backend.runJob(cluster, jobSpec(2, { run: 'echo finally' }), ctx);
      await waitFor('the waiting reason', () => /waiting in the Slurm queue \(partition debug, job \d+\): Resources/.test(ctx.read()));
      assert.deepEqual(await first.outcome, { status: 'SUCCEEDED', exitCode: 0 });
      assert.deepEqual(await second.outcome, { status: 'SUCCEEDED', exitCode: 0 });
      await Promise.all([busy.close(), ctx.close()]);
      assert.match(ctx.read(), /^\(head, rank=0\) finally$/m);
    });

    test('a Slurm node going down mid-job fails the job and stops it on the other node', async (t) => {
      const { home, backend, cluster } = await upCluster(t, transport, `sl-down-${transport}`, 2);
      const ctx = jobContext(home, 'job');
      const job = await backend.runJob(cluster, jobSpec(1, { run: 'echo started; exec -a sdk-slurm-down sleep 600' }), ctx);
      await waitFor('both nodes to start', () => (ctx.read().match(/started/g) ?? []).length === 2);
      try {
        await sh('scontrol', ['update', 'nodename=n2', 'state=down', 'reason=skydeck-test'], slurmEnv());
        const outcome = await job.outcome;
        assert.equal(outcome.status, 'FAILED');
        assert.match(outcome.reason ?? '', /node-1 \(n2\).*NODE_FAIL/);
      } finally {
        await sh('scontrol', ['update', 'nodename=n2', 'state=resume'], slurmEnv());
        await ctx.close();
      }
      await waitFor('the job to leave the queue', async () => (await squeue('-j', job.handle.slurmJobId)) === '');
      assert.equal(await pgrep('sdk-slurm-down'), '');
      await waitFor('n2 to be idle again', async () => (await sh('sinfo', ['-h', '-n', 'n2', '-o', '%t'], slurmEnv())).stdout.trim() === 'idle');
    });

    test('a Slurm job outlives a restart of slurmctld', async (t) => {
      const { home, backend, cluster } = await upCluster(t, transport, `sl-ctld-${transport}`, 2);
      const ctx = jobContext(home, 'job');
      const job = await backend.runJob(cluster, jobSpec(1, { run: 'for i in $(seq 1 80); do echo "beat $i"; sleep 0.1; done' }), ctx);
      await waitFor('the job to run', () => /beat 3\n/.test(ctx.read()));
      // The controller goes away for a moment, as in an upgrade; lab-down stops the new one by its pid file.
      const pidFile = join(lab.dir, 'run', 'slurmctld.pid');
      const old = readFileSync(pidFile, 'utf8').trim();
      await sh('kill', ['-TERM', old]);
      await waitFor('slurmctld to stop', async () => (await sh('kill', ['-0', old])).code !== 0);
      const ctld = spawn('slurmctld', ['-D', '-i'], { env: { ...process.env, ...slurmEnv() }, stdio: 'ignore', detached: true });
      writeFileSync(pidFile, `${ctld.pid}\n`);
      ctld.unref();
      const outcome = await job.outcome;
      await ctx.close();
      assert.deepEqual(outcome, { status: 'SUCCEEDED', exitCode: 0 }, ctx.read());
      for (let i = 1; i <= 80; i++) assert.ok(ctx.read().includes(`(node-1, rank=1) beat ${i}\n`), `beat ${i} missing`);
    });

    test('a job submitted held for its port check when the server stopped is released on resume, or cancelled if another cluster took its node', async (t) => {
      const { home, backend, cluster } = await upCluster(t, transport, `sl-hold-${transport}`, 1);
      cluster.ports = [18080];
      const sbatch = async (...args: string[]) => (await sh('sbatch', ['--parsable', '-p', 'debug', '-N1', '--output=/dev/null', ...args, '--wrap', 'sleep 120'], slurmEnv())).stdout.trim();
      /** The state a server stopped in between submitting the job held and releasing it. */
      const heldJob = async (jobId: number) => {
        const jobDir = join(cluster.handle!.dir, 'jobs', String(jobId));
        mkdirSync(jobDir, { recursive: true });
        writeFileSync(join(jobDir, 'port-check'), '');
        const slurmJobId = await sbatch('--hold', '--nodelist=n1', `--job-name=skydeck-${cluster.name}`, '--comment=skydeck-ports=18080');
        return { slurmJobId, cluster: cluster.name, jobId, jobDir, numNodes: 1, partition: 'debug' };
      };
      // Another cluster's job with the port, submitted before it, is on n1: the held job gives way.
      const other = await sbatch('--nodelist=n1', '--job-name=skydeck-sl-hold-other', '--comment=skydeck-ports=18080');
      const lost = await heldJob(1);
      try {
        await waitFor("the other cluster's job to run", async () => (await squeue('-j', other)) === `${other} RUNNING`);
        const ctx = jobContext(home, 'lost');
        const resumed = await backend.resumeJob(cluster, jobSpec(1, {}), lost, ctx);
        assert.deepEqual(await resumed.outcome, { status: 'FAILED', reason: 'slurm/debug: ports: 18080 is held by cluster sl-hold-other on n1' });
        await ctx.close();
        await waitFor('the held job to leave the queue', async () => (await squeue('-j', lost.slurmJobId)) === '');
      } finally {
        await sh('scancel', [other], slurmEnv());
      }
      // With nobody else there, it is released and runs.
      const kept = await heldJob(2);
      const ctx = jobContext(home, 'kept');
      const resumed = await backend.resumeJob(cluster, jobSpec(2, {}), kept, ctx);
      // An outcome before it runs is the failure, and says why.
      const ended = resumed.outcome.then((o) => assert.fail(`the released job ended before it ran: ${JSON.stringify(o)}\n${ctx.read()}`));
      ended.catch(() => undefined);
      await Promise.race([ended, waitFor('the released job to run', async () => (await squeue('-j', kept.slurmJobId)) === `${kept.slurmJobId} RUNNING`)]);
      assert.equal(existsSync(join(kept.jobDir, 'port-check')), false);
      await backend.cancelJob(cluster, kept);
      await resumed.outcome;
      await ctx.close();
    });

    test("a port held by another cluster's job that is ending is waited for, not refused", async (t) => {
      const { home, backend, cluster } = await upCluster(t, transport, `sl-end-${transport}`, 2);
      cluster.ports = [18081];
      // It ignores SIGTERM, so it stays COMPLETING until Slurm's KillWait (2 s in the lab) runs out.
      const wrap = 'trap "" TERM; while :; do sleep 0.2; done';
      const other = (await sh('sbatch', ['--parsable', '-p', 'debug', '-N1', '--nodelist=n1', '--output=/dev/null', '--job-name=skydeck-sl-end-other', '--comment=skydeck-ports=18081', '--wrap', wrap], slurmEnv())).stdout.trim();
      try {
        await waitFor("the other cluster's job to run", async () => (await squeue('-j', other)) === `${other} RUNNING`);
        await sh('scancel', [other], slurmEnv());
        await waitFor("the other cluster's job to be ending", async () => (await squeue('-j', other)) === `${other} COMPLETING`);
        // Both nodes are needed, and n1 is the ending job's: a plan that counted it would refuse.
        const ctx = jobContext(home, 'job');
        const job = await backend.runJob(cluster, jobSpec(1, { run: 'echo ran' }), ctx);
        assert.deepEqual(await job.outcome, { status: 'SUCCEEDED', exitCode: 0 });
        await ctx.close();
        assert.match(ctx.read(), /^\(head, rank=0\) ran$/m);
      } finally {
        await sh('scancel', [other], slurmEnv());
      }
    });

    test('Slurm refuses what its partition cannot hold, saying what was asked and what it has', async (t) => {
      const { backend } = slurmHome(t, transport);
      const tooMany = await backend.candidates({ infra: 'slurm/debug', numNodes: 3 });
      assert.equal(tooMany.placements.length, 0);
      assert.match(tooMany.refusals[0]!.reason, /asked for 3 nodes; partition debug has 2 nodes that fit/);
      const tooBig = await backend.candidates({ infra: 'slurm', numNodes: 1, cpus: { count: 64, orMore: false } });
      assert.match(tooBig.refusals[0]!.reason, new RegExp(`n1 has ${lab.slurmCpus} CPUs, [\\d.]+ GiB: ${lab.slurmCpus} CPUs, 64 asked`));
      const unknown = await backend.candidates({ infra: 'slurm/nope', numNodes: 1 });
      assert.match(unknown.refusals[0]!.reason, /no partition named 'nope' \(partitions: debug, gpu\)/);
      const status = await backend.check();
      const via = transport === 'rest' ? `via slurmrestd at ${lab.slurmRestUrl} (JWT, user root)` : 'via the Slurm commands (sbatch, squeue, scancel)';
      assert.deepEqual(
        status.map(({ nodes, ...s }) => ({ ...s, nodes: nodes?.map((n) => n.name).sort() })),
        [
          { infra: 'slurm/debug', enabled: true, reason: via, nodes: ['n1', lab.slurmGpuNode].sort() },
          { infra: 'slurm/gpu', enabled: true, reason: via, nodes: [lab.slurmGpuNode] },
        ],
      );
    });
  });
}

test('check names an unreachable slurmrestd, and it offers no Slurm partition', async (t) => {
  // A loopback port nothing listens on: bind one, note it, close it.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  const { backend } = slurmHome(t, 'rest', { url: `http://127.0.0.1:${port}` });
  const status = await backend.check();
  assert.equal(status.length, 1);
  assert.equal(status[0]!.enabled, false);
  assert.match(status[0]!.reason ?? '', new RegExp(`cannot reach slurmrestd at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  const { placements, refusals } = await backend.candidates({ infra: 'slurm', numNodes: 1 });
  assert.equal(placements.length, 0);
  assert.match(refusals[0]!.reason, /cannot reach slurmrestd/);
});

test('check reports a JWT slurmctld rejects, and a token file that cannot be read, without showing the token', async (t) => {
  const { home, backend } = slurmHome(t, 'rest');
  // A well-formed token signed with another key, as after the cluster's key was rotated.
  const forged = ['{"alg":"HS256","typ":"JWT"}', `{"exp":${Math.floor(Date.now() / 1000) + 3600},"iat":1,"sun":"root"}`, 'c2lnbmF0dXJl'].map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');
  const jwtFile = join(home, 'forged.jwt');
  writeFileSync(jwtFile, forged);
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'shared'), 'rest', { jwtFile }));
  const rejected = await backend.check();
  assert.equal(rejected[0]!.enabled, false);
  assert.match(rejected[0]!.reason ?? '', new RegExp(`slurmrestd at .*: is it up, and is the JWT in ${jwtFile} valid for user root\\?`));
  assert.ok(!rejected[0]!.reason!.includes(forged), 'the token appears in the reason');
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'shared'), 'rest', { jwtFile: join(home, 'missing.jwt') }));
  const unreadable = await backend.check();
  assert.match(unreadable[0]!.reason ?? '', new RegExp(`cannot read the JWT for slurmrestd at .* from ${join(home, 'missing.jwt')}: ENOENT`));
  // The token file is read at each use: putting the lab's token in place enables Slurm again.
  writeFileSync(jwtFile, readFileSync(lab.slurmJwtFile));
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'shared'), 'rest', { jwtFile }));
  assert.equal((await backend.check())[0]!.enabled, true);
});
