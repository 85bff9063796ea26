// resources.ports on local infra through the real CLI and server: recorded on the cluster and shown as
// endpoints, answered by the HTTP server the task starts on its port; a port another cluster holds, or
// a process already listens on, refused at launch naming the port, with nothing created.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../protocol/model';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';

describe('ports on local infra', () => {
  let server: TestServer;
  let port: number;
  const cli = (...args: string[]) => runCli(server, args);
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;

  before(async () => {
    server = await startServer();
    port = await freePort();
  });
  after(() => disposeWithWork(server));

  it("records the task's ports on the cluster, and the endpoint answers from the task's HTTP server", async () => {
    const launched = await cli('launch', '-c', 'web', '-y', '-d', '--ports', String(port), '--', `echo served > index.html; exec python3 -m http.server ${port} --bind 127.0.0.1`);
    assert.equal(launched.code, 0, launched.stderr);
    const web = (await clusters()).find((c) => c.name === 'web')!;
    assert.deepEqual(web.ports, [port]);
    const endpoints = await cli('status', 'web', '--endpoints');
    assert.equal(endpoints.code, 0, endpoints.stderr);
    assert.equal(endpoints.stdout.trim(), `${port}: http://127.0.0.1:${port}`);
    const url = (await cli('status', 'web', '--endpoint', String(port))).stdout.trim();
    assert.equal(url, `http://127.0.0.1:${port}`);
    const body = await eventually(async () => {
      const res = await fetch(`${url}/index.html`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 15_000, 'the task HTTP server to answer');
    assert.equal(body, 'served\n');
    assert.match((await cli('status', '-v')).stdout, new RegExp(`^web\\s.*\\s${port}\\s`, 'm'));
  });

  it('refuses a port another cluster on the machine holds, naming the port and the cluster, creating nothing', async () => {
    // The holder's job has ended: nothing listens, the cluster still holds its port.
    const held = await freePort();
    assert.equal((await cli('launch', '-c', 'holder', '-y', '--ports', String(held), '--', 'true')).code, 0);
    const other = await freePort();
    const refused = await cli('launch', '-c', 'web2', '-y', '--ports', `${other}`, '--ports', String(held), '--', 'true');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, new RegExp(`local: ports: ${held} is held by cluster holder on \\S+`));
    assert.ok(!(await clusters()).some((c) => c.name === 'web2'), 'a cluster was created');
    // Through the server alone (no CLI plan first): the launch request fails before it creates the cluster.
    const id = await server.submit('launch', { clusterName: 'web2', task: { resources: { ports: held }, run: 'true' } });
    const done = await server.waitFor(id, 30);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error?.message ?? '', new RegExp(`ports: ${held} is held by cluster holder`));
    assert.ok(!(await clusters()).some((c) => c.name === 'web2'));
  });

  it('refuses a port a process already listens on, even with no cluster on it', async () => {
    const listener: Server = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const busy = (listener.address() as { port: number }).port;
      const refused = await cli('launch', '-c', 'web3', '-y', '--ports', String(busy), '--', 'true');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr + refused.stdout, new RegExp(`local: ports: ${busy} is in use on this machine \\(a process listens on it\\)`));
      assert.ok(!(await clusters()).some((c) => c.name === 'web3'));
      const dry = await cli('launch', '-c', 'web3', '--dryrun', '--ports', String(busy), '--', 'true');
      assert.notEqual(dry.code, 0, 'the dry run says so too');
    } finally {
      listener.close();
    }
  });

  it('after down, the port is free for another cluster', async () => {
    assert.equal((await cli('down', 'web', '-y')).code, 0);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) === undefined, 10_000, 'the HTTP server to stop');
    const again = await cli('launch', '-c', 'web4', '-y', '--ports', String(port), '--', 'true');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await clusters()).find((c) => c.name === 'web4')?.ports, [port]);
  });
});
