// One contract, every backend: the same scenarios run against local processes, the lab's SSH node pool
// and its Slurm cluster (through the commands and through slurmrestd). What differs per backend (how
// many nodes, where a file mount lands, how to look for a node's processes) is the subject's; what a
// task sees and how a job ends is the contract's.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isSupported, type ClusterRecord, type InfraBackend, type InfraKind } from '../../server/infra/backend';
import { nodePrefix } from '../../server/infra/node-output';
import { createBackends } from '../../server/infra/registry';
import type { SshClusterHandle } from '../../server/infra/ssh/ssh-backend';
import { LogWriter } from '../../server/logs/log-writer';
import { clusterRecord, lab, jobContext, jobSpec, onHost, pgrepOn, sh, slurmConfigYaml, startJobElsewhere, tempHome, waitFor, writePools } from './lab';

type TestContext = Parameters<typeof tempHome>[0];

/** A provisioned cluster of one subject, torn down after the test. */
interface UpCluster {
  home: string;
  dataDir: string;
  backend: InfraBackend;
  cluster: ClusterRecord;
  /** SKYPILOT_NODE_IPS as the job must see it. */
  ips: string[];
  /** A file mount: the remote path the task gives, and how the job's shell reaches it. */
  mount(rel: string): { remote: string; path: string };
  /** PIDs of processes on node `rank` whose command line contains `text`. */
  pgrep(rank: number, text: string): Promise<string[]>;
}

interface Subject {
  /** For test names and process names: `local`, `ssh`, `slurm-commands`, `slurm-rest`. */
  id: string;
  kind: InfraKind;
  infra: string;
  nodes: number;
  up(t: TestContext, name: string): Promise<UpCluster>;
}

const localPgrep = async (text: string) => (await sh('pgrep', ['-f', `[${text[0]}]${text.slice(1)}`])).stdout.split('\n').filter(Boolean);

/** Configures the subject's infra in a temporary SKYDECK_HOME, places a cluster with the optimizer's answer and provisions it. */
async function provision(t: TestContext, kind: InfraKind, infra: string, name: string, numNodes: number, configure: (home: string) => void) {
  const { home, dataDir, beforeRemove } = tempHome(t);
  mkdirSync(dataDir, { recursive: true });
  configure(home);
  const backends = createBackends({ home, dataDir });
  const backend = backends.of(kind);
  const { placements, refusals } = await backend.candidates({ infra, numNodes });
  assert.ok(placements[0], `no placement on ${infra}: ${JSON.stringify(refusals)}`);
  const cluster = clusterRecord(name, placements[0].infra, numNodes);
  const log = new LogWriter(join(home, 'provision.log'));
  const up = await backend.provision(cluster, placements[0], log, AbortSignal.timeout(60_000));
  Object.assign(cluster, { nodes: up.nodes, resources: up.resources, handle: up.handle, status: 'UP' });
  beforeRemove(async () => {
    await backend.teardown(cluster, log);
    await log.close();
    await backends.close();
  });
  return { home, dataDir, backend, cluster };
}

const subjects: Subject[] = [
  {
    id: 'local',
    kind: 'local',
    infra: 'local',
    nodes: 1,
    async up(t, name) {
      const c = await provision(t, 'local', 'local', name, 1, () => undefined);
      // Local file mounts land in the cluster's sandbox, beside the workdir the job starts in.
      return { ...c, ips: ['127.0.0.1'], mount: (rel) => ({ remote: `contract/${rel}`, path: `../mounts/contract/${rel}` }), pgrep: (_rank, text) => localPgrep(text) };
    },
  },
  {
    id: 'ssh',
    kind: 'ssh',
    infra: 'ssh/lab',
    nodes: 2,
    async up(t, name) {
      const c = await provision(t, 'ssh', 'ssh/lab', name, 2, (home) => writePools(home));
      const hosts = (c.cluster.handle as SshClusterHandle).hosts.map((h) => h.ip);
      t.after(() => Promise.all(hosts.map((ip) => onHost(ip, `rm -rf ~/skydeck-contract-${name}`))));
      const mount = (rel: string) => ({ remote: `~/skydeck-contract-${name}/${rel}`, path: `~/skydeck-contract-${name}/${rel}` });
      return { ...c, ips: hosts, mount, pgrep: (rank, text) => pgrepOn(hosts[rank]!, text) };
    },
  },
  ...(['commands', 'rest'] as const).map(
    (transport): Subject => ({
      id: `slurm-${transport}`,
      kind: 'slurm',
      infra: 'slurm',
      nodes: 2,
      async up(t, name) {
        let shared = '';
        const c = await provision(t, 'slurm', 'slurm', name, 2, (home) => {
          shared = join(home, 'shared');
          writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(shared, transport));
        });
        assert.equal(c.cluster.infra, 'slurm/debug');
        // Both lab nodes run on this machine: a mount's absolute path is the same for the job and the test.
        const mount = (rel: string) => ({ remote: join(c.home, 'on-node', rel), path: join(c.home, 'on-node', rel) });
        return { ...c, ips: lab.slurmAddrs.slice(0, 2), mount, pgrep: (_rank, text) => localPgrep(text) };
      },
    }),
  ),
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const s of subjects) {
  /** A line of node `rank`'s output in the job log (prefixed with the node when the job has several). */
  const line = (rank: number, text: string) => new RegExp(`^${escape(nodePrefix(rank, s.nodes))}${text}$`, 'm');
  const ranks = Array.from({ length: s.nodes }, (_, r) => r);
  const last = s.nodes - 1;

  describe(`backend contract on ${s.id}`, () => {
    test('every node runs setup then run with its rank, the node IPs, the node count, its envs, workdir and file mounts', async (t) => {
      const c = await s.up(t, `ct-run-${s.id}`);
      const workdir = join(c.home, 'wd');
      mkdirSync(workdir);
      writeFileSync(join(workdir, 'data.txt'), 'from the workdir\n');
      writeFileSync(join(c.home, 'mounted.txt'), 'from a file mount\n');
      const file = c.mount('m.txt');
      const dir = c.mount('wd');
      const ctx = jobContext(c.home, 'job');
      const job = await c.backend.runJob(
        c.cluster,
        jobSpec(1, {
          numNodes: s.nodes,
          workdir,
          fileMounts: { [file.remote]: join(c.home, 'mounted.txt'), [dir.remote]: workdir },
          envs: { GREETING: "it's here" },
          setup: 'echo "setup rank=$SKYPILOT_SETUP_NODE_RANK of $SKYPILOT_SETUP_NUM_NODES"',
          run: `echo "rank=$SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES"; echo "ips=$(echo "$SKYPILOT_NODE_IPS" | paste -sd,)"; cat data.txt; echo "$GREETING"; cat ${file.path} ${dir.path}/data.txt`,
        }),
        ctx,
      );
      const outcome = await job.outcome;
      await ctx.running;
      await ctx.close();
      const text = ctx.read();
      assert.deepEqual(outcome, { status: 'SUCCEEDED', exitCode: 0 }, text);
      for (const rank of ranks) {
        assert.match(text, line(rank, `setup rank=${rank} of ${s.nodes}`), text);
        assert.match(text, line(rank, `rank=${rank} of ${s.nodes}`), text);
        assert.match(text, line(rank, `ips=${escape(c.ips.join(','))}`), text);
        assert.match(text, line(rank, "it's here"), text);
        assert.match(text, line(rank, 'from a file mount'), text);
      }
      assert.equal(text.split('\n').filter((l) => l.endsWith('from the workdir')).length, 2 * s.nodes, 'data.txt read from the workdir and from the mounted copy on every node');
    });

    test('a setup failure fails the job with its exit code and no run starts', async (t) => {
      const c = await s.up(t, `ct-setup-${s.id}`);
      const ctx = jobContext(c.home, 'job');
      const job = await c.backend.runJob(c.cluster, jobSpec(1, { numNodes: s.nodes, setup: `[ "$SKYPILOT_SETUP_NODE_RANK" = ${last} ] && exit 7; sleep 1`, run: 'echo run-started' }), ctx);
      const outcome = await job.outcome;
      await ctx.close();
      assert.equal(outcome.status, 'FAILED');
      assert.equal(outcome.exitCode, 7);
      assert.match(outcome.reason ?? '', s.nodes > 1 ? /setup failed on node-1 .*with exit code 7/ : /setup .*code 7/);
      assert.doesNotMatch(ctx.read(), /run-started/);
    });

    test('a run failure fails the job with its exit code and stops the run on every other node', async (t) => {
      const c = await s.up(t, `ct-runfail-${s.id}`);
      const ctx = jobContext(c.home, 'job');
      const marker = `sdk-ct-runfail-${s.id}`;
      const job = await c.backend.runJob(c.cluster, jobSpec(1, { numNodes: s.nodes, run: `if [ "$SKYPILOT_NODE_RANK" = ${last} ]; then sleep 1; exit 3; fi; exec -a ${marker} sleep 600` }), ctx);
      const outcome = await job.outcome;
      await ctx.close();
      assert.equal(outcome.status, 'FAILED');
      assert.equal(outcome.exitCode, 3);
      if (s.nodes > 1) assert.match(outcome.reason ?? '', /run failed on node-1 .*with exit code 3/);
      for (const rank of ranks) await waitFor(`node ${rank} to stop the run`, async () => (await c.pgrep(rank, marker)).length === 0);
    });

    test('cancel stops the whole process tree on every node within seconds', async (t) => {
      const c = await s.up(t, `ct-cancel-${s.id}`);
      const ctx = jobContext(c.home, 'job');
      const marker = `sdk-ct-cancel-${s.id}`;
      // A child in the background of the run is part of the job too.
      const job = await c.backend.runJob(c.cluster, jobSpec(1, { numNodes: s.nodes, run: `(exec -a ${marker}-bg-$SKYPILOT_NODE_RANK sleep 600) & echo started; exec -a ${marker}-fg-$SKYPILOT_NODE_RANK sleep 600` }), ctx);
      await ctx.running;
      await waitFor('every node to start', () => (ctx.read().match(/started/g) ?? []).length === s.nodes);
      for (const rank of ranks) await waitFor(`node ${rank}'s processes`, async () => (await c.pgrep(rank, `${marker}-bg-${rank}`)).length === 1 && (await c.pgrep(rank, `${marker}-fg-${rank}`)).length === 1);
      const t0 = Date.now();
      await c.backend.cancelJob(c.cluster, job.handle);
      const outcome = await job.outcome;
      const took = Date.now() - t0;
      await ctx.close();
      assert.equal(outcome.status, 'CANCELLED');
      assert.ok(took < 10_000, `cancel took ${took} ms`);
      for (const rank of ranks) {
        assert.deepEqual(await c.pgrep(rank, `${marker}-fg-${rank}`), [], `node ${rank} still runs the job`);
        assert.deepEqual(await c.pgrep(rank, `${marker}-bg-${rank}`), [], `node ${rank} still runs the job's background child`);
      }
    });

    test('a job survives its server: a new server parses its stored handle and follows it to the end with the rest of its output', async (t) => {
      const c = await s.up(t, `ct-survivor-${s.id}`);
      const spec = jobSpec(1, { numNodes: s.nodes, run: 'for i in $(seq 1 30); do echo "line $i"; sleep 0.1; done' });
      const ctx = jobContext(c.home, 'job');
      const first = await startJobElsewhere(s.kind, c.home, c.dataDir, c.cluster, spec, ctx.logPath);
      await waitFor('some output', () => /line 5\n/.test(ctx.read()));
      first.kill();
      // As a restarted server loads it: JSON from the store, checked once against the backend's schema.
      const stored = JSON.parse(JSON.stringify({ cluster: c.cluster, job: first.handle })) as { cluster: ClusterRecord; job: unknown };
      const cluster = { ...stored.cluster, handle: c.backend.handles.cluster.parse(stored.cluster.handle) };
      const resumed = await c.backend.resumeJob(cluster, spec, c.backend.handles.job.parse(stored.job), ctx);
      assert.deepEqual(await resumed.outcome, { status: 'SUCCEEDED', exitCode: 0 });
      await ctx.close();
      const text = ctx.read();
      for (let i = 1; i <= 30; i++) for (const rank of ranks) assert.match(text, line(rank, `line ${i}`), `node ${rank} line ${i} missing:\n${text}`);
    });

    test('what the infra cannot hold is refused saying what was asked and what it has', async (t) => {
      const c = await s.up(t, `ct-refuse-${s.id}`);
      const tooMany = await c.backend.candidates({ infra: s.infra, numNodes: s.nodes + 1 });
      assert.equal(tooMany.placements.length, 0);
      assert.match(tooMany.refusals[0]!.reason, new RegExp(`${s.nodes + 1} nodes`));
      const tooBig = await c.backend.candidates({ infra: s.infra, numNodes: 1, cpus: { count: 4096, orMore: false } });
      assert.equal(tooBig.placements.length, 0);
      assert.match(tooBig.refusals[0]!.reason, /4096 CPUs.*has \d+ CPUs|has \d+ CPUs.*4096/);
    });

    test('the backend says whether it can stop and start clusters, and its handles refuse what is not theirs', async (t) => {
      const c = await s.up(t, `ct-caps-${s.id}`);
      assert.equal(isSupported(c.backend.capabilities.stopStart), s.kind === 'local');
      assert.equal(c.backend.handles.cluster.safeParse(JSON.parse(JSON.stringify(c.cluster.handle))).success, true);
      assert.equal(c.backend.handles.cluster.safeParse({ something: 'else' }).success, false);
      assert.equal(c.backend.handles.job.safeParse({ pid: 'not a job' }).success, false);
    });
  });
}
