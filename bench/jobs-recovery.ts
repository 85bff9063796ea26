// `npm run bench:jobs`: how long a managed job takes to come back after its node is lost, through the
// real server. Per infra, the time from the failure until the job is RECOVERING (the failure noticed)
// and until it is RUNNING again on a new cluster (median of RUNS). Local: the job's process group killed
// from outside. With the infra lab up (SKYDECK_LAB set: see test/infra/run.sh and scripts/infra/lab-up.sh,
// under its lock), SSH: the host's namespace link taken down; Slurm: the node set down (NODE_FAIL).
// Writes bench/results/jobs-recovery.json. Asserts nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ManagedJob, ManagedJobStatus } from '../protocol/jobs';
import { startServer, type TestServer } from '../test/helpers/server';
import { describeMachine } from './lib/machine';

const RUNS = Number(process.env.RUNS ?? 3);

interface Scenario {
  infra: string;
  /** How the job says where it runs (an env its run prints). */
  where: string;
  /** Makes the node fail; returns how to undo it. */
  fail(server: TestServer, job: ManagedJob, where: string): () => void;
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => execFileSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore' });

const scenarios: Scenario[] = [
  {
    infra: 'local',
    where: 'local',
    fail(server, job) {
      const pid = Number(readFileSync(path.join(server.dataDir, 'clusters', job.tasks[0]!.cluster!, 'jobs', '1', 'pid'), 'utf8'));
      process.kill(-pid, 'SIGKILL');
      return () => undefined;
    },
  },
];
if (process.env.SKYDECK_LAB) {
  const hosts = process.env.SKYDECK_LAB_SSH_HOSTS!.split(' ');
  scenarios.push(
    {
      infra: 'ssh/lab',
      where: '$SKYPILOT_NODE_IPS',
      fail(_server, _job, host) {
        const ns = `sdk-h${hosts.indexOf(host) + 1}`;
        run('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
        return () => run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      },
    },
    {
      infra: 'slurm/debug',
      where: '$SLURMD_NODENAME',
      fail(_server, _job, node) {
        const env = { SLURM_CONF: process.env.SKYDECK_LAB_SLURM_CONF };
        run('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=skydeck-bench'], env);
        // Kept out of service (the lab's ReturnToService=2 would take it back when its slurmd registers).
        run('scontrol', ['update', `nodename=${node}`, 'state=drain', 'reason=skydeck-bench'], env);
        return () => run('scontrol', ['update', `nodename=${node}`, 'state=resume'], env);
      },
    },
  );
}

async function until(server: TestServer, id: number, statuses: ManagedJobStatus[], timeoutMs = 120_000): Promise<ManagedJob> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = (await server.json<{ jobs: ManagedJob[] }>('/api/jobs')).body.jobs.find((j) => j.id === id)!;
    if (statuses.includes(job.status)) return job;
    if (Date.now() > end) throw new Error(`job ${id} stayed ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(scenario: Scenario): Promise<{ infra: string; noticedS: number[]; runningAgainS: number[] }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-jobs-'));
  if (process.env.SKYDECK_LAB) {
    const lines = ['lab:', `  user: ${process.env.SKYDECK_LAB_SSH_USER}`, `  identity_file: ${process.env.SKYDECK_LAB_SSH_KEY}`, '  hosts:', ...process.env.SKYDECK_LAB_SSH_HOSTS!.split(' ').map((h) => `    - ${h}`)];
    writeFileSync(path.join(home, 'ssh_node_pools.yaml'), lines.join('\n') + '\n');
    writeFileSync(path.join(home, 'config.yaml'), `slurm:\n  slurm_conf: ${process.env.SKYDECK_LAB_SLURM_CONF}\n  shared_dir: ${path.join(home, 'slurm-shared')}\n`);
  }
  const server = await startServer({ home, env: { SKYDECK_JOBS_RETRY_MS: '500' } });
  const noticed: number[] = [];
  const again: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const task = { resources: { infra: scenario.infra }, run: `echo "on ${scenario.where}"; for i in $(seq 1 40); do echo tick $i; sleep 0.5; done` };
      const submitted = await server.waitFor(await server.submit('jobs.launch', { tasks: [task] }));
      const id = (submitted.result as { jobId: number }).jobId;
      const job = await until(server, id, ['RUNNING']);
      const logFile = path.join(server.dataDir, 'managed-jobs', String(id), 'job.log');
      let where: string | undefined;
      const text = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
      while (!(where = /^on (\S+)$/m.exec(text())?.[1])) await new Promise((r) => setTimeout(r, 50));
      const undo = scenario.fail(server, job, where);
      const t0 = Date.now();
      try {
        await until(server, id, ['RECOVERING', 'FAILED', 'FAILED_CONTROLLER']);
        noticed.push((Date.now() - t0) / 1000);
        await until(server, id, ['RUNNING', 'FAILED', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER']);
        again.push((Date.now() - t0) / 1000);
      } finally {
        undo();
      }
      await server.waitFor(await server.submit('jobs.cancel', { jobIds: [id] }));
      await until(server, id, ['CANCELLED', 'SUCCEEDED', 'FAILED']);
      // A Slurm node set back needs a moment to be idle again.
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await server.dispose();
  }
  return { infra: scenario.infra, noticedS: noticed, runningAgainS: again };
}

async function main(): Promise<void> {
  const results = [];
  for (const scenario of scenarios) {
    const r = await measure(scenario);
    results.push({ ...r, medianNoticedS: median(r.noticedS), medianRunningAgainS: median(r.runningAgainS) });
    console.log(`${r.infra}: failure noticed after ${median(r.noticedS).toFixed(2)} s, RUNNING again after ${median(r.runningAgainS).toFixed(2)} s (median of ${RUNS}: ${r.runningAgainS.map((s) => s.toFixed(2)).join(', ')})`);
  }
  const out = path.resolve(__dirname, 'results', 'jobs-recovery.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), machine: describeMachine(), loadavg: os.loadavg(), results }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
