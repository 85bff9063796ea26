// Child process of bench:security: GET /api/health on one keep-alive connection every `intervalMs`
// until told to stop, in a process of its own so that its figures are the server's latency and not
// the bench's own event loop.
//   parent -> child: { type: 'start', url, intervalMs }, then { type: 'stop' }
//   child -> parent: { type: 'samples', ms: number[] }
import http from 'node:http';
import { nowMs, sleep } from './stats';

type Command = { type: 'start'; url: string; intervalMs: number } | { type: 'stop' };

let measuring = false;
let probing: Promise<number[]> | undefined;

async function probe(url: string, intervalMs: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const samples: number[] = [];
  while (measuring) {
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: hostname, port, path: '/api/health', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
    });
    samples.push(nowMs() - t0);
    await sleep(intervalMs);
  }
  agent.destroy();
  return samples;
}

process.on('message', async (command: Command) => {
  if (command.type === 'start') {
    measuring = true;
    probing = probe(command.url, command.intervalMs);
  } else {
    measuring = false;
    process.send!({ type: 'samples', ms: await probing });
  }
});
