// The local machine's listening ports as the kernel lists them: read only as far as its listeners go,
// which must still find every listener however many connections follow them in the tables; and the
// same through the command a pool host runs for it.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { LISTENING_PORTS_COMMAND, localListeningPorts, parseListeningPorts } from '../../server/infra/listening-ports';
import { LocalBackend } from '../../server/infra/local/local-backend';
import { choosePlacement, type ResourcePlan } from '../../server/infra/optimizer';
import { InfraBackends } from '../../server/infra/registry';

const servers: Server[] = [];
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function listen(host: string): Promise<number> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

async function ipv6(): Promise<boolean> {
  return listen('::1').then(
    () => true,
    () => false,
  );
}

test('every listener is seen, one bound a moment ago too, with hundreds of connections in the tables', { skip: process.platform !== 'linux' && 'reads /proc/net' }, async () => {
  const first = await listen('127.0.0.1');
  // More listeners than fit in one page of the table (27 rows), so the listening part runs over pages too.
  const many = await Promise.all(Array.from({ length: 60 }, () => listen('127.0.0.1')));
  // Enough connections that the tables run over many pages of rows after the listeners.
  await Promise.all(
    Array.from({ length: 300 }, () => new Promise<void>((resolve, reject) => sockets.push(connect(first, '127.0.0.1', resolve).once('error', reject)))),
  );
  const v6 = await ipv6();
  const onAny = await listen('0.0.0.0');
  const onV6 = v6 ? await listen('::1') : undefined;
  const listening = await localListeningPorts();
  // What a pool host prints for the same question (the command runs there through SSH): the listeners only.
  const printed = execFileSync('sh', ['-c', LISTENING_PORTS_COMMAND], { encoding: 'latin1' });
  const viaShell = parseListeningPorts(printed);
  assert.ok(printed.trim().split('\n').length < 300, `printed ${printed.split('\n').length} rows, the connections' too`);
  for (const port of [first, ...many, onAny, ...(onV6 ? [onV6] : [])]) {
    assert.ok(listening.has(port), `port ${port} is listened on but not listed`);
    assert.ok(viaShell.has(port), `port ${port} is listened on but not printed by the host's command`);
  }
  // The connections' own ports (the clients' ephemeral ones) are not listened on.
  const clientPorts = sockets.flatMap((s) => (s.localPort !== undefined && s.localPort !== first ? [s.localPort] : []));
  assert.ok(clientPorts.length >= 300);
  assert.deepEqual(
    clientPorts.filter((p) => listening.has(p) || viaShell.has(p)),
    [],
  );
});

test('a port is no longer seen once its listener has closed', { skip: process.platform !== 'linux' && 'reads /proc/net' }, async () => {
  const port = await listen('127.0.0.1');
  assert.ok((await localListeningPorts()).has(port));
  await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  assert.ok(!(await localListeningPorts()).has(port));
});

test("a plan's candidates share one look at the machine, and the next plan looks again: a port bound between two plans is refused", { skip: process.platform !== 'linux' && 'reads /proc/net' }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-local-plan-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const infra = new InfraBackends([new LocalBackend(dataDir)]);
  const port = await listen('127.0.0.1');
  await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  const plan: ResourcePlan = { candidates: Array.from({ length: 10 }, (_, i) => ({ numNodes: 1, diskSizeGB: i / 100, ports: [port] })), ordered: false };
  const free = await choosePlacement(infra, plan);
  assert.equal(free.considered.length, 10);
  assert.equal(free.chosen.infra, 'local');
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await assert.rejects(choosePlacement(infra, plan), (err: Error) => {
    assert.match(err.message, new RegExp(`local \\(1 node, 0.09 GB disk\\): ports: ${port} is in use on this machine`));
    return true;
  });
});
