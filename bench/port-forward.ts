// `npm run bench:forward`: what a port forward through the API server costs on this machine. A local
// cluster's task serves a 64 MiB file (python3 -m http.server); it is downloaded 5 times straight from
// the task's port and 5 times through `PortForward` (client listener -> WebSocket -> server -> the port),
// and the medians compared as a ratio within this run. Writes bench/results/port-forward.json. Asserts nothing.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../client/api-client';
import { PortForward } from '../client/forward';
import { disposeWithWork, freePort } from '../test/helpers/cli';
import { ALICE, eventually, startServer } from '../test/helpers/server';
import { describeMachine } from './lib/machine';

const FILE_MIB = 64;
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function downloadMiBps(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let bytes = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length;
  if (bytes !== FILE_MIB * 1024 * 1024) throw new Error(`got ${bytes} bytes from ${url}`);
  return FILE_MIB / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const port = await freePort();
    const done = await server.waitFor(await server.submit('launch', { clusterName: 'bench-web', detachRun: true, task: { resources: { ports: port }, run: `head -c ${FILE_MIB * 1024 * 1024} /dev/zero > big.bin; exec python3 -m http.server ${port} --bind 127.0.0.1` } }), 60);
    if (done.status !== 'SUCCEEDED') throw new Error(`launch ${done.status}`);
    const direct = `http://127.0.0.1:${port}/big.bin`;
    await eventually(async () => (await fetch(direct).catch(() => undefined))?.ok, 20_000, 'the task server');
    const client = new ApiClient({ endpoint: { url: server.url, authorization: server.headers(ALICE).authorization, local: true, source: 'override' }, user: ALICE, agent: 'bench' });
    const forward = await PortForward.open(client, { cluster: 'bench-web', port });
    const directRuns: number[] = [];
    const forwardRuns: number[] = [];
    // Interleaved, so a slower moment of the shared machine falls on both.
    for (let i = 0; i < RUNS; i++) {
      directRuns.push(await downloadMiBps(direct));
      forwardRuns.push(await downloadMiBps(`${forward.url}/big.bin`));
    }
    forward.dispose();
    const results = {
      machine: describeMachine(),
      fileMiB: FILE_MIB,
      runs: RUNS,
      directMiBps: median(directRuns),
      forwardMiBps: median(forwardRuns),
      forwardOverDirect: median(forwardRuns) / median(directRuns),
    };
    const root = path.resolve(__dirname, '..');
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/port-forward.json'), JSON.stringify(results, null, 2) + '\n');
    console.log(`port forward, ${FILE_MIB} MiB download, median of ${RUNS}:`);
    console.log(`  direct          ${results.directMiBps.toFixed(0)} MiB/s`);
    console.log(`  through forward ${results.forwardMiBps.toFixed(0)} MiB/s (${(results.forwardOverDirect * 100).toFixed(0)}% of direct)`);
  } finally {
    await disposeWithWork(server);
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
