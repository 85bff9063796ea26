// The optimizer's verdicts on local, SSH and Slurm through the real server and CLI (`launch --dryrun`):
// each refusal names, per infra, the key it cannot satisfy; and `ports` on an SSH pool (on Slurm: slurm-ports.test.ts): recorded,
// shown as the head host's endpoint and answered by the task's HTTP server; a host where a process
// already listens on the port is left out, saying so.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LISTENING_PORTS_COMMAND } from '../../server/infra/listening-ports';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { lab, onHost, slurmConfigYaml, writePools } from './lab';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('optimizer verdicts on local, SSH and Slurm', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args, { timeoutMs: 90_000 });
  const dryrun = async (...args: string[]) => {
    const run = await cli('launch', '-c', 'plan', '--dryrun', ...args, '--', 'true');
    return { ...run, out: run.stdout + run.stderr };
  };

  before(async () => {
    const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
    writePools(home);
    writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
    server = await startServer({ home });
  });
  after(() => disposeWithWork(server));

  it('use_spot is refused on every infra, each saying why in its own words', async () => {
    const run = await dryrun('--use-spot');
    assert.notEqual(run.code, 0);
    assert.match(run.out, /^\s*local: use_spot: no spot capacity on this machine$/m);
    assert.match(run.out, /^\s*ssh\/lab: use_spot: an SSH node pool is a set of fixed hosts, not spot instances$/m);
    assert.match(run.out, /^\s*slurm\/debug: use_spot: Slurm nodes are allocated by the cluster's scheduler, not spot instances$/m);
  });

  it('disk_size is refused with the largest free figure each infra has', async () => {
    const run = await dryrun('--disk-size', '100000');
    assert.notEqual(run.code, 0);
    assert.match(run.out, /^\s*local: disk_size 100000 GB: this machine has [\d.]+ GB free$/m);
    assert.match(run.out, /^\s*ssh\/lab: disk_size 100000 GB: the largest host has [\d.]+ GB free$/m);
    assert.match(run.out, /^\s*slurm\/debug: disk_size 100000 GB: the largest node has 4 GB free$/m);
    const fits = await dryrun('--disk-size', '2', '--infra', 'slurm/debug');
    assert.equal(fits.code, 0, fits.out);
    assert.match(fits.out, /^slurm\/debug\s+1\s.*✔$/m);
  });

  it('the table shows where a GPU task fits (the GRES node) and why the others cannot', async () => {
    const run = await dryrun('--gpus', 'T4:1');
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /^slurm\/(debug|gpu)\s+1\s+\d+\s+[\d.]+\s+T4:2\s+✔$/m);
    assert.match(run.out, /^\s*local: the task asks for T4:1; this machine has .*no NVIDIA GPU found/m);
    assert.match(run.out, /^\s*ssh\/lab: asked for 1 node, T4:1; pool lab has 0 free hosts that fit; .*no accelerators, T4:1 asked/m);
  });

  it('ports go to the cheapest infra (local), with Slurm, which keeps a job off nodes holding them, considered too', async () => {
    const run = await dryrun('--ports', '8080');
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /^local\s+1\s.*✔$/m);
    assert.match(run.out, /^slurm\/debug\s+1\s/m);
    assert.doesNotMatch(run.out, /slurm\/debug: ports/);
  });

  it("ports on an SSH pool: the head host's endpoint answers from the task's HTTP server; a host with the port in use is left out", async () => {
    const port = await freePort();
    const head = lab.sshHosts[0]!;
    const launched = await cli('launch', '-c', 'web', '-y', '-d', '--infra', 'ssh/lab', '--ports', String(port), '--', `echo ssh-served > index.html; exec python3 -m http.server ${port} --bind ${head}`);
    assert.equal(launched.code, 0, launched.stderr);
    const endpoint = await cli('status', 'web', '--endpoint', String(port));
    assert.equal(endpoint.stdout.trim(), `http://${head}:${port}`);
    const body = await eventually(async () => {
      const res = await fetch(`http://${head}:${port}/index.html`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
      // http.server looks its address up in DNS before it listens, which the lab's namespaces wait out.
    }, 60_000, 'the HTTP server on the SSH host');
    assert.equal(body, 'ssh-served\n');

    // Something else listens on the last host: a 2-node cluster with that port cannot have it.
    const busyHost = lab.sshHosts[2]!;
    const busy = await freePort();
    const listen = `import socket, time; s = socket.socket(); s.bind(('${busyHost}', ${busy})); s.listen(); time.sleep(300)`;
    const started = await onHost(busyHost, `setsid python3 -c "${listen}" >/dev/null 2>&1 < /dev/null & echo $!`);
    const pid = started.stdout.trim();
    try {
      await eventually(async () => (await onHost(busyHost, LISTENING_PORTS_COMMAND)).stdout.includes(`:${busy.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`), 10_000, 'the listener on the host');
      const refused = await dryrun('--infra', 'ssh/lab', '--num-nodes', '2', '--ports', String(busy));
      assert.notEqual(refused.code, 0);
      assert.match(refused.out, new RegExp(`ssh/lab: asked for 2 nodes; pool lab has 1 free host that fit; .*${esc(head)} is taken by cluster web.*${esc(busyHost)} has port ${busy} in use \\(a process listens on it\\)`));
    } finally {
      await onHost(busyHost, `kill ${pid}`);
    }
    assert.equal((await cli('down', 'web', '-y')).code, 0);
  });
});
