// `node --import tsx bench/task-schema.ts` (after `npm run build`): how long a 200-line SkyPilot task file
// takes to parse and plan, and the wall time of `skydeck launch --dryrun` and `skydeck --version` against a
// real server, each as a ratio to a Node that does nothing (`node -e 0`, what no change to the CLI can go
// below) run interleaved with them: of a file the CLI validated before (its task comes from the CLI's
// cache), of a file it has not, and before the CLI's code cache exists. A measuring tool: it asserts
// nothing about timing.
// `SKYDECK_BENCH_BASELINE=DIR` (a folder holding another build's cli.js and server.js, such as main's dist/
// copied before a change) also times that CLI against the same server, interleaved with this one, and
// prints the ratios: on a loaded machine only a comparison within one run means anything.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTaskYaml } from '../protocol/task';
import { ROOT, snapshotBuild } from './lib/build';
import { describeMachine } from './lib/machine';
import { cleanEnv, BenchServer } from './lib/server';
import { median, nowMs, percentile } from './lib/stats';

/** A task file of about `lines` lines using most of the schema: envs, storage mounts, any_of candidates, a long run. */
export function bigTaskFile(lines = 200): string {
  const out = ['name: bench-task', 'num_nodes: 1', 'resources:', '  cpus: 1+', '  memory: 1+', '  ports: [8080, 9000-9010]', '  labels: {team: bench}', '  autostop: {idle_minutes: 30, down: false}', '  any_of:'];
  for (let i = 0; i < 10; i++) out.push('    - infra: local', `      disk_size: ${10 + i}`);
  out.push('envs:');
  for (let i = 0; i < 40; i++) out.push(`  VAR_${i}: value-${i}`);
  out.push('file_mounts:');
  for (let i = 0; i < 10; i++) out.push(`  ~/bucket-${i}:`, `    source: s3://bucket-${i}/path`, '    mode: MOUNT');
  out.push('setup: |');
  for (let i = 0; i < 20; i++) out.push(`  echo setup step ${i}`);
  out.push('run: |');
  while (out.length < lines) out.push(`  echo run step ${out.length}`);
  return out.join('\n') + '\n';
}

function timeCli(cliJs: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = nowMs();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliJs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('close', (code) => (code === 0 ? resolve(nowMs() - t0) : reject(new Error(`skydeck ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-task-'));
  try {
    const text = bigTaskFile();
    const file = path.join(root, 'task.yaml');
    writeFileSync(file, text);
    for (let i = 0; i < 50; i++) parseTaskYaml(text); // warm up the JIT
    const parses: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = nowMs();
      parseTaskYaml(text);
      parses.push(nowMs() - t0);
    }
    const build = snapshotBuild(path.join(root, 'dist'), path.join(ROOT, 'dist'));
    const server = await BenchServer.start({ dir: path.join(root, 'home'), build });
    try {
      const task = parseTaskYaml(text);
      const plans: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = nowMs();
        const res = await fetch(`${server.url}/api/plan`, { method: 'POST', headers: { ...server.headers(), 'content-type': 'application/json' }, body: JSON.stringify({ task }) });
        if (res.status !== 200) throw new Error(`plan answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        if (i >= 5) plans.push(nowMs() - t0);
      }
      const env = cleanEnv({ SKYDECK_HOME: server.home, SKYDECK_API_SERVER_ENDPOINT: server.url });
      const baselineDir = process.env.SKYDECK_BENCH_BASELINE;
      const baseline = baselineDir ? snapshotBuild(path.join(root, 'baseline'), path.resolve(baselineDir)) : undefined;
      const dryrun = ['launch', file, '-c', 'bench', '--dryrun'];
      const codeCache = path.join(server.home, 'code-cache');
      const loadBefore = os.loadavg();
      // Before any cache exists: what a first run (or a run after an upgrade) pays.
      const cold: number[] = [];
      for (let i = 0; i < 5; i++) {
        rmSync(codeCache, { recursive: true, force: true });
        cold.push(await timeCli(build.cliJs, dryrun, env));
      }
      await timeCli(build.cliJs, ['--version'], env);
      if (baseline) await timeCli(baseline.cliJs, dryrun, env);
      // Interleaved with a Node that does nothing, so that every ratio compares runs under the same load.
      const runs = { node: [] as number[], dry: [] as number[], fresh: [] as number[], version: [] as number[], baseDry: [] as number[], baseVersion: [] as number[] };
      const freshFile = path.join(root, 'fresh.yaml');
      for (let i = 0; i < 15; i++) {
        runs.node.push(await timeCli('-e', ['0'], env));
        runs.dry.push(await timeCli(build.cliJs, dryrun, env));
        // A file this CLI has not validated before (its text differs each time): parsed and validated.
        writeFileSync(freshFile, `${text}# edit ${i}\n`);
        runs.fresh.push(await timeCli(build.cliJs, ['launch', freshFile, '-c', 'bench', '--dryrun'], env));
        runs.version.push(await timeCli(build.cliJs, ['--version'], env));
        if (!baseline) continue;
        runs.baseDry.push(await timeCli(baseline.cliJs, dryrun, env));
        runs.baseVersion.push(await timeCli(baseline.cliJs, ['--version'], env));
      }
      const loadAfter = os.loadavg();
      const f = (n: number) => `${n.toFixed(2)} ms`;
      const floor = median(runs.node);
      const ratio = (runs: number[]) => `${(median(runs) / floor).toFixed(2)}x node -e 0`;
      const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
      console.log(`Machine: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average (1, 5, 15 min) ${load(loadBefore)} before the CLI runs, ${load(loadAfter)} after`);
      console.log(`Task file: ${text.split('\n').length - 1} lines, ${text.length} bytes`);
      console.log(`parse (parseTaskYaml)      median ${f(median(parses))}  p95 ${f(percentile(parses, 95))}  (${parses.length} runs, in process)`);
      console.log(`plan (POST /api/plan)      median ${f(median(plans))}  p95 ${f(percentile(plans, 95))}  (${plans.length} runs, loopback)`);
      console.log(`node -e 0 wall (Node floor) median ${f(floor)}  (${runs.node.length} runs)`);
      console.log(`launch --dryrun wall       median ${f(median(runs.dry))}  ${ratio(runs.dry)}  (the same file again)`);
      console.log(`launch --dryrun, new file  median ${f(median(runs.fresh))}  ${ratio(runs.fresh)}  (a file not validated before)`);
      console.log(`--version wall             median ${f(median(runs.version))}  ${ratio(runs.version)}`);
      console.log(`launch --dryrun, no code cache yet  median ${f(median(cold))}  ${ratio(cold)}  (${cold.length} runs)`);
      if (baseline) {
        const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
        console.log(`CLI bundles ${mb(build.cliBytes)}, baseline ${mb(baseline.cliBytes)} (${baselineDir})`);
        console.log(`baseline launch --dryrun   median ${f(median(runs.baseDry))}  ${ratio(runs.baseDry)}`);
        console.log(`baseline --version         median ${f(median(runs.baseVersion))}  ${ratio(runs.baseVersion)}`);
      }
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
