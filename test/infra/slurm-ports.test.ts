// `ports` on Slurm through the real server and CLI: the endpoint is the head node of the job's
// allocation and answers from the task's HTTP server; a second cluster wanting the same port is kept
// off that node (sbatch --exclude), also when it is launched by another SkyDeck server that reaches
// Slurm through slurmrestd (the ports travel in the jobs' Slurm comments); a third, with both nodes
// taken, is refused before anything is created (no cluster record, nothing in Slurm's queue), and an
// existing cluster that adds the port gets its job refused before it is submitted.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { lab, sh, slurmConfigYaml, type SlurmTransportKind } from './lab';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const squeueNamed = async (name: string) => (await sh('squeue', ['-h', '-o', '%i', '--name', name], { SLURM_CONF: lab.slurmConf })).stdout.trim();

async function slurmServer(transport: SlurmTransportKind): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), transport));
  return startServer({ home });
}

describe('ports on Slurm', () => {
  let commands: TestServer;
  let rest: TestServer;
  const cli = (server: TestServer, ...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });
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

  /** The endpoint, once the job's allocation is known, and what the task's HTTP server answers there. */
  async function served(server: TestServer, cluster: string): Promise<{ url: string; body: string }> {
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
    const ended = await cli(rest, 'cancel', 'web2', '-a');
    assert.equal(ended.code, 0, ended.stdout + ended.stderr);
    await eventually(async () => ((await cli(rest, 'status', 'web2', '--endpoints')).stderr.includes('has no node address now') ? true : undefined), 30_000, 'web2 to lose its address');
    const again = await cli(commands, 'launch', '-c', 'web3', '--dryrun', '--infra', 'slurm/debug', '--ports', String(port), '--', 'true');
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it("with two jobs running, the cluster's address is the later job's head, then the earlier's once the later ends", async () => {
    assert.equal((await cli(commands, 'cancel', 'web1', '-a')).code, 0);
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
