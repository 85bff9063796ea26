// The lab that test/infra/run.sh brings up (scripts/infra/lab-up.sh), as the infra tests see it: SSH
// hosts in network namespaces, a Slurm cluster, and helpers to build backends and clusters on them.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterRecord, InfraKind, JobContext, JobSpec, Placement } from '../../server/infra/backend';
import { LogWriter } from '../../server/logs/log-writer';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the infra tests through test/infra/run.sh, which brings up the lab`);
  return v;
}

export const lab = {
  get dir() {
    return need('SKYDECK_LAB');
  },
  get sshHosts() {
    return need('SKYDECK_LAB_SSH_HOSTS').split(' ');
  },
  get sshUser() {
    return need('SKYDECK_LAB_SSH_USER');
  },
  get sshKey() {
    return need('SKYDECK_LAB_SSH_KEY');
  },
  get slurmConf() {
    return need('SKYDECK_LAB_SLURM_CONF');
  },
  /** The Slurm nodes' addresses (NodeAddr), n1 first: each node has a loopback address of its own. */
  get slurmAddrs() {
    return need('SKYDECK_LAB_SLURM_ADDRS').split(' ');
  },
  get slurmCpus() {
    return Number(need('SKYDECK_LAB_SLURM_CPUS'));
  },
  /** The Slurm node that declares two GPUs (gres gpu:t4:2), alone in partition `gpu` and also in `debug`. */
  get slurmGpuNode() {
    return need('SKYDECK_LAB_SLURM_GPU_NODE');
  },
  /** slurmrestd with JWT auth on loopback, and a token for root in a file. */
  get slurmRestUrl() {
    return need('SKYDECK_LAB_SLURMRESTD_URL');
  },
  get slurmJwtFile() {
    return need('SKYDECK_LAB_SLURM_JWT_FILE');
  },
};

/** How the Slurm backend reaches the lab's cluster: its commands, or slurmrestd. */
export type SlurmTransportKind = 'commands' | 'rest';

/** The `slurm:` section of config.yaml for the lab's cluster, through the given transport. */
export function slurmConfigYaml(sharedDir: string, transport: SlurmTransportKind, rest: { url?: string; jwtFile?: string } = {}): string {
  const lines = ['slurm:', `  slurm_conf: ${lab.slurmConf}`, `  shared_dir: ${sharedDir}`];
  if (transport === 'rest') lines.push('  rest:', `    url: ${rest.url ?? lab.slurmRestUrl}`, `    jwt_file: ${rest.jwtFile ?? lab.slurmJwtFile}`, '    user: root', '    api: v0.0.38');
  return lines.join('\n') + '\n';
}

/**
 * A temporary SKYDECK_HOME and data dir, removed after the test; `beforeRemove` hooks (teardowns that
 * still read the configuration) run first, last registered first.
 */
export function tempHome(t: { after(fn: () => unknown): void }): { home: string; dataDir: string; beforeRemove(fn: () => unknown): void } {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  const hooks: (() => unknown)[] = [];
  t.after(async () => {
    try {
      for (const fn of hooks.reverse()) await fn();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
  return { home, dataDir: join(home, 'data'), beforeRemove: (fn) => hooks.push(fn) };
}

/** Writes ssh_node_pools.yaml with one pool `lab` over the given lab hosts. */
export function writePools(home: string, hosts = lab.sshHosts, extra = ''): void {
  const lines = ['lab:', `  user: ${lab.sshUser}`, `  identity_file: ${lab.sshKey}`, '  hosts:', ...hosts.map((h) => `    - ${h}`)];
  writeFileSync(join(home, 'ssh_node_pools.yaml'), lines.join('\n') + '\n' + extra);
}

export function clusterRecord<H = unknown>(name: string, infra: string, numNodes: number): ClusterRecord<H> {
  return {
    name,
    infra,
    resources: { infra },
    numNodes,
    status: 'INIT',
    owner: { id: 'abcd1234', name: 'tester' },
    launchedAt: Date.now(),
    nodes: [],
  };
}

export function placement(infra: string, numNodes: number): Placement {
  return { infra, numNodes, cpus: 1, memoryGiB: 0.5, cost: 1 };
}

/** A job for the lab's clusters, which all have two nodes: it runs on both unless `parts` says otherwise. */
export function jobSpec(jobId: number, parts: Partial<JobSpec>): JobSpec {
  return { jobId, numNodes: 2, envs: {}, gpusPerNode: 0, taskId: `sky-test-${jobId}`, ...parts };
}

/** A job context writing into a log file; `running` resolves when the backend calls onRunning. */
export function jobContext(dir: string, name: string): JobContext & { running: Promise<void>; read(): string; close(): Promise<void> } {
  const logPath = join(dir, `${name}.log`);
  const log = new LogWriter(logPath);
  let markRunning!: () => void;
  const running = new Promise<void>((r) => (markRunning = r));
  return {
    log,
    logPath,
    onRunning: () => markRunning(),
    running,
    read: () => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    },
    close: () => log.close(),
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command on a lab host with the OpenSSH client (independent of the backend under test). */
export function onHost(ip: string, command: string) {
  return sh('ssh', ['-F', join(lab.dir, 'ssh', 'ssh_config'), ip, command]);
}

/** PIDs on a lab host whose command line contains `text` (pgrep -f, not matching the asking shell). */
export async function pgrepOn(ip: string, text: string): Promise<string[]> {
  const pattern = `[${text[0]}]${text.slice(1)}`;
  const r = await onHost(ip, `pgrep -f '${pattern}' || true`);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Starts a job from a separate process that plays the first server (fixtures/start-job.ts), and returns
 * its handle and a way to kill that process with SIGKILL, as a crash would.
 */
export async function startJobElsewhere(kind: InfraKind, home: string, dataDir: string, cluster: ClusterRecord, spec: JobSpec, logPath: string) {
  const first = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'start-job.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, SKYDECK_TEST_HOME: home, SKYDECK_TEST_DATA: dataDir },
  });
  first.stdin.end(JSON.stringify({ kind, cluster, spec, logPath }));
  let out = '';
  first.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const line = await waitFor('the job handle', () => out.split('\n').find((l) => l.startsWith('{')));
  return { handle: JSON.parse(line) as unknown, kill: () => first.kill('SIGKILL') };
}
