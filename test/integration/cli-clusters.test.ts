// Cluster and job commands as a real process: status, queue, logs, cancel, stop, start, down, check.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Job } from '../../protocol/model';
import { disposeWithWork, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';

describe('cluster commands', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    const launch = await runCli(server, ['launch', '-c', 'cl1', '-y', 'echo job-one-output']);
    assert.equal(launch.code, 0, launch.stderr);
  });
  after(() => disposeWithWork(server));

  it('status shows the cluster as a table and as JSON; an unknown name is an error', async () => {
    const table = await runCli(server, ['status']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+INFRA\s+RESOURCES\s+NODES\s+STATUS\s+LAUNCHED\s+AUTOSTOP\ncl1\s+local\s+.*\s+1\s+UP\s+(just now|\d+s ago)\s+-$/m);
    const json = JSON.parse((await runCli(server, ['status', 'cl1', '--json'])).stdout) as Cluster[];
    assert.deepEqual(
      json.map((c) => [c.name, c.status]),
      [['cl1', 'UP']],
    );
    const missing = await runCli(server, ['status', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: no cluster named nosuch/m);
    const refreshed = await runCli(server, ['status', '--refresh', '--json']);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.ok((JSON.parse(refreshed.stdout) as Cluster[]).some((c) => c.name === 'cl1'));
  });

  it('queue lists the jobs with their status and exit code', async () => {
    const run = await runCli(server, ['queue', 'cl1']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ID\s+NAME\s+USER\s+SUBMITTED\s+DURATION\s+STATUS\s+EXIT\n1\s+.*SUCCEEDED\s+0$/m);
    const jobs = JSON.parse((await runCli(server, ['queue', 'cl1', '--json'])).stdout) as Job[];
    assert.equal(jobs[0]!.jobId, 1);
  });

  it("logs prints a job's output", async () => {
    const run = await runCli(server, ['logs', 'cl1', '1', '--no-follow']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /job-one-output/);
  });

  it('cancel stops a running job; with neither ids nor --all it is a usage error', async () => {
    const launch = await runCli(server, ['launch', '-c', 'cl1', '-y', '--detach-run', 'sleep 60']);
    assert.equal(launch.code, 0, launch.stderr);
    const usage = await runCli(server, ['cancel', 'cl1']);
    assert.equal(usage.code, 2);
    const run = await runCli(server, ['cancel', 'cl1', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Cancelled job 2\b/);
    const jobs = JSON.parse((await runCli(server, ['queue', 'cl1', '--json'])).stdout) as Job[];
    assert.equal(jobs.find((j) => j.jobId === 2)!.status, 'CANCELLED');
  });

  it('stop asks first, naming the requests it will cancel, and cancels them; start brings the cluster back', async () => {
    const running = (await runCli(server, ['launch', '-c', 'cl1', '-y', '--async', 'sleep 60'])).stdout.trim();
    await eventually(async () => (await server.json<{ status: string }>(`/api/requests/${running}`)).body.status === 'RUNNING', 15_000, 'RUNNING');
    const declined = await runCli(server, ['stop', 'cl1'], { input: 'n\n' });
    assert.equal(declined.code, 1);
    assert.match(declined.stdout, new RegExp(`This first cancels 1 ongoing request on it: ${running.slice(0, 8)} \\(launch, RUNNING\\)`));
    assert.equal((await server.json<{ status: string }>(`/api/requests/${running}`)).body.status, 'RUNNING');

    const stop = await runCli(server, ['stop', 'cl1', '-y']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await server.waitFor(running)).status, 'CANCELLED');
    const stopped = JSON.parse((await runCli(server, ['status', 'cl1', '--json'])).stdout) as Cluster[];
    assert.equal(stopped[0]!.status, 'STOPPED');

    const start = await runCli(server, ['start', 'cl1']);
    assert.equal(start.code, 0, start.stderr);
    const up = JSON.parse((await runCli(server, ['status', 'cl1', '--json'])).stdout) as Cluster[];
    assert.equal(up[0]!.status, 'UP');
  });

  it('down -y tears the cluster down', async () => {
    const run = await runCli(server, ['down', 'cl1', '-y']);
    assert.equal(run.code, 0, run.stderr);
    const status = await runCli(server, ['status']);
    assert.match(status.stdout, /No existing clusters\./);
    const again = await runCli(server, ['down', 'cl1', '-y']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: .*cl1/m);
  });

  it('check lists the infra the server can use', async () => {
    const run = await runCli(server, ['check']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^INFRA\s+ENABLED\s+REASON\nlocal\s+yes/m);
    const json = JSON.parse((await runCli(server, ['check', '--json'])).stdout) as { infra: string; enabled: boolean }[];
    assert.ok(json.some((i) => i.infra === 'local' && i.enabled));
  });
});
