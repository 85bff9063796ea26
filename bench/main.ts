// `npm run bench`: measures this project's API server and CLI on this machine and prints the figures
// beside the targets of issue 2 ("Speed and memory"); the same figures go to bench/results/latest.json.
// A measuring tool, not a test: it asserts nothing about timing, it only fails when something breaks.
//
//   node bench/run.mjs [--cpu-prof] [--keep] [--stream-mib N] [--runs N]
//     --cpu-prof      write V8 CPU profiles of the servers to bench/results/profiles/
//     --keep          keep the temp dir (data dirs, server logs) for inspection
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine';
import { cleanUpEverything, installExitHandlers, keepTempDirs, trackTempRoot } from './lib/processes';
import { mb, ms, perSecond, renderTable, seconds, type Row } from './lib/report';
import { ROOT, snapshotBuild, type Build } from './lib/build';
import { BenchServer } from './lib/server';
import { sleep } from './lib/stats';
import { coldStart, type ColdStartResult } from './scenarios/cold-start';
import { cliWallTimes, type CliTiming } from './scenarios/cli';
import { drive, health, openConnections, statusRoundTrip, type Rate } from './scenarios/load';
import { firstLogLine, logStreaming, type FirstLineResult, type StreamingResult } from './scenarios/logs';
import { submitWithFinishedJobs, type LiveJobsRun } from './scenarios/live-jobs';
import { submitByStoreSize, type StoreSizeRun } from './scenarios/store-size';

interface MainServerFigures {
  rssIdleBytes: number;
  health1: Rate;
  health4: Rate;
  roundTrip1: Rate;
  roundTrip4: Rate;
  statusRequestsSubmitted: number;
  rssAfterRequestsBytes: number;
  firstLine: FirstLineResult;
  streaming: StreamingResult;
  rssAfterStreamingBytes: number;
  cli: CliTiming[];
}

interface Results {
  coldStart: ColdStartResult;
  main: MainServerFigures;
  stores: StoreSizeRun[];
  liveJobs: LiveJobsRun[];
  roundTripOnTmpfs: Rate | undefined;
}

const STORE_SIZES = [0, 10_000, 100_000];
const REQUESTS_BEFORE_RSS = 10_000;
const FINISHED_JOBS = 10_000;

function progress(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'cpu-prof': { type: 'boolean' },
      keep: { type: 'boolean' },
      'stream-mib': { type: 'string', default: '200' },
      runs: { type: 'string', default: '7' },
    },
  });
  const runs = Number(values.runs);
  const streamMib = Number(values['stream-mib']);
  installExitHandlers();
  keepTempDirs(values.keep === true);
  const root = mkdtempSync(path.join(os.tmpdir(), 'skydeck-bench-'));
  trackTempRoot(root);
  const resultsDir = path.join(ROOT, 'bench/results');
  const profDir = values['cpu-prof'] ? path.join(resultsDir, 'profiles') : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const started = new Date();
  const machine = describeMachine();
  const loadBefore = os.loadavg();
  const build = snapshotBuild(path.join(root, 'dist'));
  progress(`${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${loadBefore[0]!.toFixed(2)}; temp dir ${root}`);

  progress(`cold start: ${runs} runs`);
  const cold = await coldStart(build, root, runs);

  progress('main server: idle memory, /api/health, short round trips');
  const server = await BenchServer.start({ dir: path.join(root, 'main'), build, cpuProfDir: profDir });
  const oddities: string[] = [];
  let main: MainServerFigures;
  try {
    await sleep(1000);
    const rssIdleBytes = server.rssBytes();

    // Fresh connections for each phase: the server closes keep-alive connections idle for 5 s.
    const phase = async (connections: number, limits: Parameters<typeof drive>[1], call: Parameters<typeof drive>[2]) => {
      const conns = await openConnections(server, connections);
      try {
        return await drive(conns, limits, call);
      } finally {
        for (const c of conns) c.close();
      }
    };
    await phase(1, { seconds: 10, maxCalls: 500 }, health);
    const health1 = await phase(1, { seconds: 3 }, health);
    const health4 = await phase(4, { seconds: 3 }, health);

    let submitted = 0;
    submitted += (await phase(1, { seconds: 10, maxCalls: 200 }, statusRoundTrip)).calls;
    const roundTrip1 = await phase(1, { seconds: 5 }, statusRoundTrip);
    submitted += roundTrip1.calls;
    const roundTrip4 = await phase(4, { seconds: 4 }, statusRoundTrip);
    submitted += roundTrip4.calls;
    if (submitted < REQUESTS_BEFORE_RSS) {
      progress(`  ${REQUESTS_BEFORE_RSS - submitted} more round trips to reach ${REQUESTS_BEFORE_RSS} requests`);
      submitted += (await phase(4, { seconds: 120, maxCalls: REQUESTS_BEFORE_RSS - submitted }, statusRoundTrip)).calls;
    }
    await sleep(1000);
    const rssAfterRequestsBytes = server.rssBytes();

    progress(`first log line: ${runs} launches`);
    const firstLine = await firstLogLine(server, runs);
    if (firstLine.attachedBeforeLine.some((a) => !a)) oddities.push('some first-line launches wrote their line before the stream client was attached');

    progress(`log streaming: a job writing ${streamMib} MiB`);
    const streaming = await logStreaming(server, streamMib);
    if (streaming.clientBytes < streaming.jobBytes) oddities.push(`the stream delivered ${streaming.clientBytes} bytes, fewer than the ${streaming.jobBytes} the job wrote`);
    await sleep(1000);
    const rssAfterStreamingBytes = server.rssBytes();

    progress(`CLI wall time: ${runs} runs per command`);
    const cli = await cliWallTimes(build, server, runs);

    main = { rssIdleBytes, health1, health4, roundTrip1, roundTrip4, statusRequestsSubmitted: submitted, rssAfterRequestsBytes, firstLine, streaming, rssAfterStreamingBytes, cli };
  } finally {
    const stopped = await server.stop();
    if (stopped.forced) oddities.push('the main server did not exit within 10 s of SIGTERM');
    const internalErrors = server.log().split('\n').filter((l) => l.includes('internal error'));
    if (internalErrors.length > 0) oddities.push(`the main server logged ${internalErrors.length} internal error(s), first: ${internalErrors[0]!.slice(0, 300)}`);
  }

  progress(`submit latency with ${STORE_SIZES.map((n) => n.toLocaleString('en-US')).join(' / ')} finished requests stored (servers side by side, alternating rounds)`);
  const stores = await submitByStoreSize(build, root, STORE_SIZES, { rounds: 6, perRound: 500, cpuProfDir: profDir });

  progress(`submit latency with ${FINISHED_JOBS.toLocaleString('en-US')} finished jobs on one UP cluster`);
  const liveJobs = await submitWithFinishedJobs(build, root, FINISHED_JOBS);

  const onTmpfs = await roundTripOnTmpfs(build);

  const loadAfter = os.loadavg();
  const { serverJs: _s, cliJs: _c, ...buildInfo } = build;
  const results = { machine, loadAverage: { before: loadBefore, after: loadAfter }, startedAt: started.toISOString(), commit: gitCommit(), build: buildInfo, coldStart: cold, main, stores, liveJobs, roundTripOnTmpfs: onTmpfs, oddities };
  const rows = tableRows(results);
  const table = renderTable(rows);
  mkdirSync(resultsDir, { recursive: true });
  // Per-call samples stay out of the file; their distributions are in it.
  writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify({ ...results, table: rows }, (k, v) => (k === 'samples' ? undefined : v), 2) + '\n');

  console.log(`\nSkyDeck benchmark, ${started.toISOString()} (commit ${results.commit})`);
  console.log(`Machine: nproc ${machine.nproc}; CPU ${machine.cpuModel}; ${machine.kernel}; Node ${machine.node}`);
  console.log(machine.freeG.replace(/^/gm, '  '));
  console.log(`Load average (1 min) before/after: ${loadBefore[0]!.toFixed(2)} / ${loadAfter[0]!.toFixed(2)}; bundles: server ${(build.serverBytes / 1e6).toFixed(2)} MB, CLI ${(build.cliBytes / 1e6).toFixed(2)} MB (${build.minified ? 'minified' : 'not minified'})`);
  console.log('');
  console.log(table);
  console.log('\nMB = 10^6 bytes. Ratios compare figures from this same run.');
  for (const o of oddities) console.log(`Note: ${o}`);
  console.log(`\nJSON: ${path.relative(process.cwd(), path.join(resultsDir, 'latest.json'))}${profDir ? `; CPU profiles: ${profDir}` : ''}${values.keep ? `; kept: ${root}` : ''}`);
}

/**
 * Diagnostic: the same one-connection round trip with the data dir on tmpfs. Its ratio to the figure on
 * the real filesystem shows how much of a short request's time is spent on filesystem metadata.
 */
async function roundTripOnTmpfs(build: Build): Promise<Rate | undefined> {
  if (!existsSync('/dev/shm')) return undefined;
  progress('diagnostic: short round trips with the data dir on tmpfs (/dev/shm)');
  const dir = mkdtempSync('/dev/shm/skydeck-bench-');
  trackTempRoot(dir);
  const server = await BenchServer.start({ dir, build });
  try {
    const conns = await openConnections(server, 1);
    await drive(conns, { seconds: 10, maxCalls: 200 }, statusRoundTrip);
    const rate = await drive(conns, { seconds: 4 }, statusRoundTrip);
    for (const c of conns) c.close();
    return rate;
  } finally {
    await server.stop();
  }
}

function tableRows(r: Results): Row[] {
  const m = r.main;
  const empty = r.stores.find((s) => s.stored === 0)!;
  const largest = r.stores[r.stores.length - 1]!;
  const ratio = largest.submitMs.p99 / empty.submitMs.p99;
  const cli = (args: string) => m.cli.find((c) => c.args.join(' ') === args)!;
  const rows: Row[] = [
    { figure: `Server cold start (spawn -> /api/health 200), median of ${r.coldStart.runsMs.length}`, measured: seconds(r.coldStart.medianMs), target: '< 0.3 s', ok: r.coldStart.medianMs < 300, skypilot: '5.9-8.9 s' },
    { figure: '  for scale: bare `node -e 0`, median', measured: `${seconds(r.coldStart.nodeBareMedianMs)} (server = ${(r.coldStart.medianMs / r.coldStart.nodeBareMedianMs).toFixed(1)}x)` },
    { figure: '/api/health, 1 keep-alive connection', measured: `${perSecond(m.health1.perSecond)} (p99 ${ms(m.health1.latencyMs.p99)})`, skypilot: '~390/s' },
    { figure: '/api/health, 4 connections', measured: perSecond(m.health4.perSecond) },
    {
      figure: 'Short round trip (submit status + GET ?wait), 1 connection',
      measured: `${perSecond(m.roundTrip1.perSecond)}, p50 ${ms(m.roundTrip1.latencyMs.p50)}, p99 ${ms(m.roundTrip1.latencyMs.p99)}`,
      target: '> 1,000/s',
      ok: m.roundTrip1.perSecond > 1000,
      skypilot: '5.6/s, p50 189 ms',
    },
    ...(r.roundTripOnTmpfs
      ? [
          {
            figure: '  diagnostic: same, 1 connection, data dir on tmpfs',
            measured: `${perSecond(r.roundTripOnTmpfs.perSecond)}, p50 ${ms(r.roundTripOnTmpfs.latencyMs.p50)} (${(r.roundTripOnTmpfs.perSecond / m.roundTrip1.perSecond).toFixed(1)}x the disk figure)`,
          },
        ]
      : []),
    { figure: 'Short round trip, 4 connections', measured: `${perSecond(m.roundTrip4.perSecond)}, p50 ${ms(m.roundTrip4.latencyMs.p50)}, p99 ${ms(m.roundTrip4.latencyMs.p99)}`, target: '> 1,000/s', ok: m.roundTrip4.perSecond > 1000 },
    {
      figure: `First log line: job writes it -> /api/stream client has it, median of ${m.firstLine.deliveryMs.length}`,
      measured: `${ms(m.firstLine.deliveryMedianMs)} (max ${ms(Math.max(...m.firstLine.deliveryMs))})`,
      target: '< 100 ms',
      ok: m.firstLine.deliveryMedianMs < 100,
    },
    { figure: '  launch submitted -> first line at the client, median', measured: ms(m.firstLine.submitToLineMedianMs) },
    { figure: '  later lines of a running job (write -> client), median', measured: `${ms(m.firstLine.laterLinesMedianMs)} (max ${ms(Math.max(...m.firstLine.laterLinesMs))})` },
    {
      figure: `Log streaming to a following client (${(m.streaming.jobBytes / 2 ** 20).toFixed(0)} MiB job)`,
      measured: `${m.streaming.clientMBps.toFixed(0)} MB/s (job wrote at ${m.streaming.jobMBps.toFixed(0)} MB/s; tail lag ${ms(m.streaming.tailLagMs)})`,
    },
    { figure: 'Server RSS idle (after start)', measured: mb(m.rssIdleBytes), target: '< 100 MB', ok: m.rssIdleBytes < 100e6, skypilot: '~1 GB (7 processes)' },
    { figure: `Server RSS after ${m.statusRequestsSubmitted.toLocaleString('en-US')} requests`, measured: mb(m.rssAfterRequestsBytes) },
    { figure: 'Server RSS peak while streaming / 1 s after', measured: `${mb(m.streaming.peakServerRssBytes)} / ${mb(m.rssAfterStreamingBytes)}` },
  ];
  for (const s of r.stores) {
    rows.push({
      figure: `Submit (POST -> 202), ${s.stored.toLocaleString('en-US')} finished stored: p50 / p99 (4 conns p99)`,
      measured: `${ms(s.submitMs.p50)} / ${ms(s.submitMs.p99)} (${ms(s.submitConcurrentMs.p99)})`,
    });
  }
  rows.push(
    { figure: `Submit p99 ratio, ${largest.stored.toLocaleString('en-US')} stored / empty`, measured: `${ratio.toFixed(2)}x`, target: '<= 2x', ok: ratio <= 2 },
    ...r.stores.map((s) => ({ figure: `  ${s.stored.toLocaleString('en-US')} stored: server start; RSS after start`, measured: `${seconds(s.startMs)}; ${mb(s.rssAfterStartBytes)}` })),
    { figure: '  GET /api/requests?all=1, median: empty / largest store', measured: `${ms(empty.listAllMedianMs)} / ${ms(largest.listAllMedianMs)}` },
    { figure: '  GET /api/requests/<8-char prefix>, median: empty / largest', measured: `${ms(empty.prefixLookupMedianMs)} / ${ms(largest.prefixLookupMedianMs)}` },
    ...liveJobRows(r.liveJobs),
    { figure: `CLI \`skydeck api status\`, median of ${cli('api status').runsMs.length}`, measured: seconds(cli('api status').medianMs), target: '< 0.3 s', ok: cli('api status').medianMs < 300, skypilot: '2.5-3.6 s' },
    { figure: `CLI \`skydeck api info\`, median of ${cli('api info').runsMs.length}`, measured: seconds(cli('api info').medianMs), target: '< 0.3 s', ok: cli('api info').medianMs < 300, skypilot: '2.5-3.6 s' },
    { figure: '  for scale: `skydeck --version` (no server call), median', measured: seconds(cli('--version').medianMs) },
  );
  return rows;
}

function liveJobRows([one, many]: Results['liveJobs']): Row[] {
  if (!one || !many) return [];
  return [
    ...[one, many].map((j) => ({
      figure: `Submit p50 / p99, ${j.finishedJobs.toLocaleString('en-US')} finished job(s) on one UP cluster`,
      measured: `${ms(j.submitMs.p50)} / ${ms(j.submitMs.p99)} (${perSecond(j.submitsPerSecond)}; state.json ${mb(j.stateFileBytes)})`,
    })),
    { figure: `  p99 ratio, ${many.finishedJobs.toLocaleString('en-US')} jobs / 1 (same bar as stored requests)`, measured: `${(many.submitMs.p99 / one.submitMs.p99).toFixed(1)}x`, target: '<= 2x (by analogy)', ok: many.submitMs.p99 / one.submitMs.p99 <= 2 },
  ];
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main()
  .then(() => cleanUpEverything())
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    cleanUpEverything();
    process.exitCode = 1;
  });
