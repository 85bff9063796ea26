// `skydeck port-forward` on the lab's remote backends, through the real server and CLI: a cluster on the
// SSH pool and one on Slurm each serve a declared port on their head node's own address (as on separate
// machines), the server connects to the address it recorded for that node, and the body arrives on
// 127.0.0.1 of this machine; `down` then ends the CLI's forward with status 1, saying the cluster was torn down.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { disposeWithWork, freePort, runCli, spawnCli, type CliProcess } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { lab, slurmConfigYaml, writePools } from './lab';

describe('port forward to SSH and Slurm head nodes', () => {
  let server: TestServer;
  const clusters: string[] = [];
  const forwards: CliProcess[] = [];
  const cli = (...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });

  before(async () => {
    const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
    writePools(home);
    writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
    server = await startServer({ home });
  });
  after(async () => {
    for (const f of forwards) f.dispose();
    try {
      for (const name of clusters) await cli('down', name, '-y');
    } finally {
      await disposeWithWork(server);
    }
  });

  async function forwardsAndEndsAtDown(cluster: string, infra: string, addresses: string[]): Promise<void> {
    const port = await freePort();
    const text = `served from ${infra} through the API server`;
    clusters.push(cluster);
    const launched = await cli('launch', '-c', cluster, '-y', '-d', '--infra', infra, '--ports', String(port), '--', `echo "${text}" > index.html; exec python3 -m http.server ${port} --bind "$(echo "$SKYPILOT_NODE_IPS" | head -1)"`);
    assert.equal(launched.code, 0, launched.stdout + launched.stderr);
    // The address the server will connect to: one of the lab's own, not this machine's 127.0.0.1.
    const ip = await eventually(async () => {
      const r = await cli('status', cluster, '--ip');
      return r.code === 0 ? r.stdout.trim() : undefined;
    }, 30_000, `the head node address of ${cluster}`);
    assert.ok(addresses.includes(ip), `head node ${ip} is not one of ${addresses.join(', ')}`);

    const forward = spawnCli(server, ['port-forward', cluster, String(port)]);
    forwards.push(forward);
    await forward.waitForOutput(new RegExp(`^Forwarding (http://127\\.0\\.0\\.1:\\d+) to port ${port} of cluster ${cluster}`, 'm'));
    const url = /^Forwarding (\S+)/m.exec(forward.stdout())![1]!;
    // http.server looks its address up in DNS before it listens: until then the node refuses, the
    // forward resets that connection, and the next try goes through.
    const body = await eventually(async () => {
      const res = await fetch(`${url}/`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 45_000, `the HTTP server on ${ip} to answer through the forward`);
    assert.equal(body, `${text}\n`);

    const down = await cli('down', cluster, '-y');
    assert.equal(down.code, 0, down.stdout + down.stderr);
    const run = await forward.done;
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`^Error: cluster ${cluster} was torn down; the forward ended`, 'm'));
    assert.equal(await fetch(`${url}/`).then(() => 'answered', () => 'refused'), 'refused', 'the local port closed with the forward');
  }

  it("a cluster on the SSH pool: the task's HTTP server on the head host answers through the forward; down ends it", async () => {
    await forwardsAndEndsAtDown('fwdssh', 'ssh/lab', lab.sshHosts);
  });

  it("a cluster on Slurm: the task's HTTP server on the allocation's head node answers through the forward; down ends it", async () => {
    await forwardsAndEndsAtDown('fwdslurm', 'slurm/debug', lab.slurmAddrs);
  });
});
