// `ports` on Slurm through the real server and CLI: the endpoint is the head node of the job's
// allocation and answers from the task's HTTP server; a second cluster wanting the same port is kept
// off that node (pinned to the other one, sbatch --nodelist), also when it is launched by another
// SkyDeck server that reaches Slurm through slurmrestd (the ports travel in the jobs' Slurm comments); a
// third, with both nodes taken, is refused before anything is created (no cluster record, nothing in
// Slurm's queue), and an existing cluster that adds the port gets its job refused before it is
// submitted. Then the same with launches at the same moment, and while the first one's job is still
// pending, on nodes that take two jobs.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { lab, sh, slurmConfigYaml, type SlurmTransportKind } from './lab';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const squeueNamed = async (name: string) => (await sh('squeue', ['-h', '-o', '%i', '--name', name], { SLURM_CONF: lab.slurmConf })).stdout.trim();

const cli = (server: TestServer, ...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });

/** The endpoint for `port`, once the job's allocation is known, and what the task's HTTP server answers there. */
async function servedAt(server: TestServer, cluster: string, port: number): Promise<{ url: string; body: string }> {
  const url = await eventually(async () => {
    const r = await cli(server, 'status', cluster, '--endpoint', String(port));
    return r.code === 0 ? r.stdout.trim() : undefined;
  }, 60_000, `the endpoint of ${cluster}`);
  const body = await eventually(async () => {
    const res = await fetch(`${url}/index.html`).catch(() => undefined);
    return res?.ok ? res.text() : undefined;
  }, 60_000, `the HTTP server of ${cluster}`);
  return { url, body };
}

async function slurmServer(transport: SlurmTransportKind): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), transport));
  return startServer({ home });
}

describe('ports on Slurm', () => {
  let commands: TestServer;
  let rest: TestServer;
  let port: number;
  // The task serves on its head node's own address (each lab node has one), as on separate machines.
  const serve = (text: string) => `echo ${text} > index.html; exec python3 -m http.server ${port} --bind "$(echo "$SKYPILOT_NODE_IPS" | head -1)"`;

  before(async () => {
    [commands, rest] = await Promise.all([slurmServer('commands'), slurmServer('rest')]);
    port = await freePort();
  });
  after(async () => {
    for (const [server, name] of [[commands, 'web1'], [rest, 'web2'], [commands, 'web3'], [commands, 'web4'], [commands, 'multi']] as const) await cli(server, 'down', name, '-y');
    await Promise.all([disposeWithWork(commands), disposeWithWork(rest)]);
  });

  const served = (server: TestServer, cluster: string) => servedAt(server, cluster, port);

  it("the endpoint is the allocation's head node, answered by the task; the same port goes to another node, through either transport", async () => {
    // A cluster without ports, made while the nodes are free (its job ends at once); it adds one later.
    const plain = await cli(commands, 'launch', '-c', 'web4', '-y', '--infra', 'slurm/debug', '--', 'echo plain');
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    const first = await cli(commands, 'launch', '-c', 'web1', '-y', '-d', '--infra', 'slurm/debug', '--ports', String(port), '--', serve('first'));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout + first.stderr, /^slurm\/debug\s+1\s.*✔$/m);
    const one = await served(commands, 'web1');
    assert.equal(one.body, 'first\n');
    assert.ok(lab.slurmAddrs.some((a) => one.url === `http://${a}:${port}`), one.url);
    const listed = await cli(commands, 'status', 'web1', '--endpoints');
    assert.equal(listed.stdout.trim(), `${port}: ${one.url}`);

    // Another server, through slurmrestd: it learns from Slurm that web1 holds the port on its node.
    const second = await cli(rest, 'launch', '-c', 'web2', '-y', '-d', '--infra', 'slurm/debug', '--ports', String(port), '--', serve('second'));
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const two = await served(rest, 'web2');
    assert.equal(two.body, 'second\n');
    assert.notEqual(two.url, one.url, 'web2 was kept off the node where web1 holds the port');
    assert.ok(lab.slurmAddrs.some((a) => two.url === `http://${a}:${port}`), two.url);
  });

  it('a third cluster wanting the port, with every node holding it, is refused before anything is created', async () => {
    const third = await cli(commands, 'launch', '-c', 'web3', '-y', '-d', '--infra', 'slurm/debug', '--ports', String(port), '--', serve('third'));
    assert.notEqual(third.code, 0);
    const out = third.stdout + third.stderr;
    assert.match(out, new RegExp(`slurm/debug: ports: partition debug has 0 of its 2 usable nodes without them in use, 1 asked; `));
    assert.match(out, new RegExp(`${port} is held by cluster web1 on n\\d`));
    assert.match(out, new RegExp(`${port} is held by cluster web2 on n\\d`));
    const status = await cli(commands, 'status', 'web3');
    assert.doesNotMatch(status.stdout, /web3/, 'no cluster record');
    assert.equal(await squeueNamed('skydeck-web3'), '', 'nothing submitted to Slurm');
    // On a cluster that exists, the port it adds is checked when its job is submitted: refused there,
    // with nothing left in Slurm's queue.
    const adding = await cli(commands, 'launch', '-c', 'web4', '-y', '-d', '--ports', String(port), '--', serve('third'));
    assert.notEqual(adding.code, 0);
    assert.match(adding.stdout + adding.stderr, new RegExp(`slurm/debug: ports: partition debug has 0 of its 2 usable nodes without them in use, 1 asked; .*${port} is held by cluster web1`));
    assert.equal(await squeueNamed('skydeck-web4'), '', 'nothing submitted to Slurm');
    // A port nobody holds still places at once.
    const other = await cli(commands, 'launch', '-c', 'web3', '--dryrun', '--infra', 'slurm/debug', '--ports', String(port + 1), '--', 'true');
    assert.equal(other.code, 0, other.stdout + other.stderr);
    assert.match(other.stdout + other.stderr, new RegExp(`^${esc('slurm/debug')}\\s+1\\s.*✔$`, 'm'));
  });

  it('once its job has ended, a cluster has no address and holds no port', async () => {
    const ended = await cli(rest, 'cancel', 'web2', '-a', '-y');
    assert.equal(ended.code, 0, ended.stdout + ended.stderr);
    await eventually(async () => ((await cli(rest, 'status', 'web2', '--endpoints')).stderr.includes('has no node address now') ? true : undefined), 30_000, 'web2 to lose its address');
    const again = await cli(commands, 'launch', '-c', 'web3', '--dryrun', '--infra', 'slurm/debug', '--ports', String(port), '--', 'true');
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it("with two jobs running, the cluster's address is the later job's head, then the earlier's once the later ends", async () => {
    assert.equal((await cli(commands, 'cancel', 'web1', '-a', '-y')).code, 0);
    const ip = async () => {
      const r = await cli(commands, 'status', 'multi', '--ip');
      return r.code === 0 ? r.stdout.trim() : r.stderr;
    };
    const launched = await cli(commands, 'launch', '-c', 'multi', '-y', '-d', '--infra', 'slurm/debug', '--ports', String(port), '--', 'sleep 300');
    assert.equal(launched.code, 0, launched.stdout + launched.stderr);
    const first = await eventually(async () => ((await ip()).startsWith('127.') ? ip() : undefined), 60_000, 'the first job on a node');
    const exec = await cli(commands, 'exec', 'multi', '-d', '--', 'sleep 300');
    assert.equal(exec.code, 0, exec.stdout + exec.stderr);
    const second = await eventually(async () => {
      const now = await ip();
      return now.startsWith('127.') && now !== first ? now : undefined;
    }, 60_000, 'the second job on the other node');
    assert.ok(lab.slurmAddrs.includes(second), second);
    assert.equal((await cli(commands, 'cancel', 'multi', '2')).code, 0);
    await eventually(async () => ((await ip()) === first ? true : undefined), 30_000, 'the address to go back to the first job');
    assert.equal((await cli(commands, 'cancel', 'multi', '1')).code, 0);
    await eventually(async () => ((await ip()).includes('has no node address now') ? true : undefined), 30_000, 'no address with no job running');
  });
});

// Launches at the same moment, or while the first one's job is still pending (a pending job holds no
// node yet), on partitions whose nodes take two jobs at once (OverSubscribe=FORCE:2, as nodes with
// more cores than one job asks for): never two clusters with the same port on one node.
describe('ports on Slurm, launched at the same moment or while the first is pending', () => {
  let commands: TestServer;
  let rest: TestServer;
  let port: number;
  const scontrol = (...args: string[]) => sh('scontrol', args, { SLURM_CONF: lab.slurmConf });
  const serve = (text: string) => `echo ${text} > index.html; exec python3 -m http.server ${port} --bind "$(echo "$SKYPILOT_NODE_IPS" | head -1)"`;
  const clusters: [TestServer, string][] = [];
  const blockers: string[] = [];
  /** `skydeck launch -d` of a cluster wanting the port on the partition, remembered for the clean-up. */
  const served = (server: TestServer, cluster: string) => servedAt(server, cluster, port);
  const launch = (server: TestServer, name: string, partition: string) => {
    clusters.push([server, name]);
    return cli(server, 'launch', '-c', name, '-y', '-d', '--infra', `slurm/${partition}`, '--ports', String(port), '--', serve(name));
  };
  before(async () => {
    // One shared node (race1) and two (race2); a partition left by a killed run goes first.
    for (const p of ['race1', 'race2']) await scontrol('delete', `PartitionName=${p}`);
    assert.equal((await scontrol('create', 'PartitionName=race1', 'Nodes=n1', 'OverSubscribe=FORCE:2')).code, 0);
    assert.equal((await scontrol('create', 'PartitionName=race2', 'Nodes=n1,n2', 'OverSubscribe=FORCE:2')).code, 0);
    [commands, rest] = await Promise.all([slurmServer('commands'), slurmServer('rest')]);
    port = await freePort();
  });
  // Each test starts with the partitions empty, whatever the one before left.
  afterEach(async () => {
    if (blockers.length) await sh('scancel', blockers.splice(0), { SLURM_CONF: lab.slurmConf });
    for (const [server, name] of clusters.splice(0)) await cli(server, 'down', name, '-y');
  });
  after(async () => {
    await Promise.all([disposeWithWork(commands), disposeWithWork(rest)]);
    for (const p of ['race1', 'race2']) await scontrol('delete', `PartitionName=${p}`);
  });

  it('three clusters launched at once for one shared node, through two servers: one gets the port, the others are refused naming it', async () => {
    const names = ['racea', 'raceb', 'racec'];
    const runs = await Promise.all([launch(commands, 'racea', 'race1'), launch(commands, 'raceb', 'race1'), launch(rest, 'racec', 'race1')]);
    const won = names.filter((_, i) => runs[i]!.code === 0);
    assert.equal(won.length, 1, `exactly one launch placed; ${runs.map((r, i) => `${names[i]}: exit ${r.code} ${r.stdout}${r.stderr}`).join('\n')}`);
    const winner = won[0]!;
    for (const [i, r] of runs.entries()) {
      if (names[i] === winner) continue;
      // (It may name a loser too, if it saw that one's job before the job gave way.)
      assert.match(r.stdout + r.stderr, new RegExp(`slurm/race1: ports: partition race1 has 0 of its 1 usable node without them in use, 1 asked; .*${port} is held by cluster ${winner} on n1`));
      assert.equal(await squeueNamed(`skydeck-${names[i]}`), '', `nothing of ${names[i]} left in Slurm's queue`);
      // Refused at placement or at its job's submission, the launch leaves no cluster behind.
      assert.doesNotMatch((await cli(i === 2 ? rest : commands, 'status')).stdout, new RegExp(`\\b${names[i]}\\b`), `no cluster record of ${names[i]}`);
    }
    const { url, body } = await served(names.indexOf(winner) === 2 ? rest : commands, winner);
    assert.equal(body, `${winner}\n`);
    assert.equal(url, `http://${lab.slurmAddrs[0]}:${port}`);
  });

  it("a cluster launched while the first one's job is still pending is refused, naming the port and the pending job", async () => {
    // n1 full: two jobs that are not SkyDeck's take both of its slots.
    for (let i = 0; i < 2; i++) {
      const r = await sh('sbatch', ['--parsable', '-p', 'race1', '-N1', '--job-name=busy', '--output=/dev/null', '--wrap', 'sleep 300'], { SLURM_CONF: lab.slurmConf });
      assert.equal(r.code, 0, r.stderr);
      blockers.push(r.stdout.trim().split(';')[0]!);
    }
    await eventually(async () => ((await sh('squeue', ['-h', '-t', 'RUNNING', '-n', 'busy', '-o', '%i'], { SLURM_CONF: lab.slurmConf })).stdout.trim().split('\n').length === 2 ? true : undefined), 30_000, 'the two jobs to fill n1');
    const first = await launch(commands, 'pendinga', 'race1');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const pending = await eventually(async () => {
      const id = await squeueNamed('skydeck-pendinga');
      return id || undefined;
    }, 30_000, "pendinga's job in Slurm's queue");
    const second = await launch(rest, 'pendingb', 'race1');
    assert.notEqual(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout + second.stderr, new RegExp(`slurm/race1: ports: .*${port} is held by cluster pendinga on n1 \\(pending job ${pending}\\)`));
    assert.equal(await squeueNamed('skydeck-pendingb'), '', 'nothing of pendingb submitted');
    // Once n1 has room, the pending one starts there and serves.
    await sh('scancel', blockers.splice(0), { SLURM_CONF: lab.slurmConf });
    const { url, body } = await served(commands, 'pendinga');
    assert.equal(body, 'pendinga\n');
    assert.equal(url, `http://${lab.slurmAddrs[0]}:${port}`);
  });

  it('two clusters launched at once through two servers, with two shared nodes: each lands on its own node and serves there', async () => {
    const [a, b] = await Promise.all([launch(commands, 'twina', 'race2'), launch(rest, 'twinb', 'race2')]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const [one, two] = await Promise.all([served(commands, 'twina'), served(rest, 'twinb')]);
    assert.equal(one.body, 'twina\n');
    assert.equal(two.body, 'twinb\n');
    assert.notEqual(one.url, two.url, 'the two clusters are on different nodes');
  });
});
