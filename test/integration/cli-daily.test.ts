// The daily commands as SkyPilot's behave, through the real CLI and server: logs --status exit codes and
// --sync-down, status -u/--ip/--endpoint/-o json, queue -s/-u, autostop, stop/down -a, cancel -a/-u, api status -u.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Job } from '../../protocol/model';
import { disposeWithWork, runCli } from '../helpers/cli';
import { ALICE, startServer, type TestServer } from '../helpers/server';

describe('daily commands', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args);
  const jobs = async (cluster: string) => (await server.json<{ jobs: Job[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs;

  before(async () => {
    server = await startServer();
    const first = await cli('launch', '-c', 'daily', '-y', '--', 'echo first-job-output');
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => disposeWithWork(server));

  it('logs --status exits with SkyPilot job codes: 0, 100, 101, 102, 103', async () => {
    const ok = await cli('logs', 'daily', '1', '--status');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Job 1: SUCCEEDED$/m);

    assert.equal((await cli('exec', 'daily', 'exit 3')).code, 3);
    const failed = await cli('logs', 'daily', '--status');
    assert.equal(failed.code, 100, failed.stderr);
    assert.match(failed.stdout, /^Job 2: FAILED$/m);

    assert.equal((await cli('exec', 'daily', '-d', 'sleep 30')).code, 0);
    const running = await cli('logs', 'daily', '3', '--status');
    assert.equal(running.code, 101, running.stderr);
    assert.match(running.stdout, /^Job 3: (PENDING|SETTING_UP|RUNNING)$/m);

    const cancel = await cli('cancel', 'daily', '3');
    assert.equal(cancel.code, 0, cancel.stderr);
    const deadline = Date.now() + 15_000;
    while ((await jobs('daily')).find((j) => j.jobId === 3)?.status !== 'CANCELLED' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const cancelled = await cli('logs', 'daily', '3', '--status');
    assert.equal(cancelled.code, 103, cancelled.stderr);

    const missing = await cli('logs', 'daily', '99', '--status');
    assert.equal(missing.code, 102);
    assert.match(missing.stderr, /Job 99 not found/);
  });

  it('logs --sync-down saves the job log under SKYDECK_HOME/logs', async () => {
    const run = await cli('logs', 'daily', '1', '--sync-down');
    assert.equal(run.code, 0, run.stderr);
    const file = path.join(server.home, 'logs', 'daily', 'job-1.log');
    assert.match(run.stdout, new RegExp(`Job 1 logs: ${file}`));
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), /first-job-output/);
    assert.equal((await cli('logs', 'daily', '1', '2')).code, 2, 'several jobs need --sync-down');
  });

  it('status shows your clusters, everyone\'s with -u; --ip, --endpoint and -o json', async () => {
    // A cluster of another user (alice), launched through the API.
    const id = await server.submit('launch', { task: { run: 'echo alice' }, clusterName: 'alices' }, ALICE);
    assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
    const mine = await cli('status');
    assert.match(mine.stdout, /^daily\s/m);
    assert.doesNotMatch(mine.stdout, /alices/);
    const all = await cli('status', '-u');
    assert.match(all.stdout, /^NAME\s+USER\s+INFRA/m);
    assert.match(all.stdout, /^alices\s+alice\s/m);
    const json = JSON.parse((await cli('status', '-u', '-o', 'json')).stdout) as Cluster[];
    assert.deepEqual(json.map((c) => c.name).sort(), ['alices', 'daily']);
    const ip = await cli('status', 'daily', '--ip');
    assert.equal(ip.code, 0, ip.stderr);
    assert.equal(ip.stdout.trim(), '127.0.0.1');
    const noPort = await cli('status', 'daily', '--endpoint', '8080');
    assert.equal(noPort.code, 1);
    assert.match(noPort.stderr, /port 8080 is not exposed on cluster daily/);
    assert.equal((await cli('status', '-o', 'yaml')).code, 2);
  });

  it('queue -s skips finished jobs; -u shows everyone\'s', async () => {
    assert.equal((await cli('exec', 'daily', '-d', 'sleep 30')).code, 0);
    const active = await cli('queue', 'daily', '-s');
    assert.equal(active.code, 0, active.stderr);
    assert.doesNotMatch(active.stdout, /SUCCEEDED|FAILED|CANCELLED/);
    assert.match(active.stdout, /RUNNING|SETTING_UP|PENDING/);
    const others = await cli('queue', 'alices');
    assert.match(others.stdout, /No jobs on cluster alices/);
    assert.match((await cli('queue', 'alices', '-u')).stdout, /alice\s/);
    assert.equal((await cli('cancel', 'daily', '-a', '-y')).code, 0);
  });

  it('autostop -i N --down sets autodown, --cancel clears it', async () => {
    const set = await cli('autostop', 'daily', '-i', '30', '--down');
    assert.equal(set.code, 0, set.stderr);
    assert.match((await cli('status', 'daily')).stdout, /30m \(down\)/);
    const cleared = await cli('autostop', 'daily', '--cancel');
    assert.equal(cleared.code, 0, cleared.stderr);
    const cluster = (JSON.parse((await cli('status', 'daily', '--json')).stdout) as Cluster[])[0]!;
    assert.equal(cluster.autostop, undefined);
    assert.equal((await cli('autostop', 'daily', '--cancel', '-i', '3')).code, 2);
  });

  it('stop -a and down -a act on all of your clusters, not on others\'', async () => {
    const stop = await cli('stop', '-a', '-y');
    assert.equal(stop.code, 0, stop.stderr);
    const down = await cli('down', '-a', '-y');
    assert.equal(down.code, 0, down.stderr);
    const left = (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters.map((c) => c.name);
    assert.deepEqual(left, ['alices']);
  });

  it("api status lists your requests, everyone's with -u", async () => {
    const mine = await cli('api', 'status', '-a');
    assert.equal(mine.code, 0, mine.stderr);
    assert.doesNotMatch(mine.stdout, /\balice\b/);
    assert.match((await cli('api', 'status', '-a', '-u')).stdout, /\balice\b/);
  });

  it("cancel -a cancels only your jobs on the cluster; -u everyone's", async () => {
    const me = { SKYDECK_USER_ID: 'c0ffee00', SKYDECK_USER: 'carl' };
    const mine = await runCli(server, ['launch', '-c', 'shared', '-y', '-d', '--', 'sleep 60'], { env: me });
    assert.equal(mine.code, 0, mine.stderr);
    // Someone else's job on the same cluster (the local server's owner may run on any cluster).
    const theirs = await server.waitFor(await server.submit('exec', { clusterName: 'shared', detachRun: true, task: { run: 'sleep 60' } }, ALICE));
    assert.equal(theirs.status, 'SUCCEEDED', JSON.stringify(theirs.error));
    const status = async () => Object.fromEntries((await jobs('shared')).map((j) => [j.owner.name, j.status]));
    const cancelled = await runCli(server, ['cancel', 'shared', '-a', '-y'], { env: me });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Cancelled job 1 on shared\./);
    assert.doesNotMatch(cancelled.stdout, /job 2/);
    assert.equal((await status()).carl, 'CANCELLED');
    assert.notEqual((await status()).alice, 'CANCELLED', "alice's job was cancelled by carl's -a");
    // As `sky cancel CLUSTER -u`: everyone's jobs, with or without -a.
    const everyone = await runCli(server, ['cancel', 'shared', '-u', '-y'], { env: me });
    assert.equal(everyone.code, 0, everyone.stderr);
    assert.match(everyone.stdout, /Cancelled job 2 on shared\./);
    assert.equal((await status()).alice, 'CANCELLED');
    assert.equal((await runCli(server, ['down', 'shared', '-y'], { env: me })).code, 0);
  });
});
