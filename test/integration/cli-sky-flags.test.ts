// SkyPilot's flags that scripts pass, through the real CLI and a real local server, each with its meaning:
// -y on cancel/start/autostop/api cancel (and the question the bulk forms ask without it), -u on
// stop/down/autostop, --follow, -o json beside --json, check INFRA..., api status --all-status/-c/-v,
// api login -t/--service-account-token/--relogin, jobs launch -d/-c, jobs logs -n, jobs queue -l/-v/-r.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InfraStatus } from '../../protocol/infra';
import type { Cluster, Job, RequestSummary } from '../../protocol/model';
import { disposeWithWork, runCli } from '../helpers/cli';
import { ALICE, eventually, startServer, type TestServer } from '../helpers/server';
import { admin, startTeamServer } from '../security/helpers';

describe('sky flags', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args);
  const answering = (input: string, ...args: string[]) => runCli(server, args, { input });
  const jobs = async (cluster: string) => (await server.json<{ jobs: Job[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs;
  const jobStatus = async (cluster: string, jobId: number) => (await jobs(cluster)).find((j) => j.jobId === jobId)?.status;
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;
  const cluster = async (name: string) => (await clusters()).find((c) => c.name === name);

  before(async () => {
    server = await startServer();
    const first = await cli('launch', '-c', 'f1', '-y', '--', 'echo hello-f1');
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => disposeWithWork(server));

  it('cancel CLUSTER JOB -y cancels at once; cancel -a asks first and a no keeps the jobs', async () => {
    assert.equal((await cli('exec', 'f1', '-d', 'sleep 60')).code, 0);
    const named = await cli('cancel', 'f1', '2', '-y');
    assert.equal(named.code, 0, named.stderr);
    await eventually(async () => (await jobStatus('f1', 2)) === 'CANCELLED' || undefined, 15_000, 'job 2 cancelled');

    assert.equal((await cli('exec', 'f1', '-d', 'sleep 60')).code, 0);
    const declined = await answering('n\n', 'cancel', 'f1', '-a');
    assert.equal(declined.code, 1, declined.stdout + declined.stderr);
    assert.match(declined.stdout, /Cancelling all your jobs on cluster f1: 3\. Proceed\?/);
    assert.match(declined.stderr, /Aborted; nothing was cancelled/);
    assert.notEqual(await jobStatus('f1', 3), 'CANCELLED');
    const yes = await cli('cancel', 'f1', '-a', '-y');
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /Cancelled job 3 on f1\./);
    await eventually(async () => (await jobStatus('f1', 3)) === 'CANCELLED' || undefined, 15_000, 'job 3 cancelled');
  });

  it('logs --follow is the default made explicit: it streams the job to its end', async () => {
    const run = await cli('logs', 'f1', '1', '--follow');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hello-f1/);
  });

  it('-o json means --json on check, api info, gpus list and show-gpus; check takes infra names', async () => {
    const infra = JSON.parse((await cli('check', '-o', 'json')).stdout) as InfraStatus[];
    assert.deepEqual(infra, JSON.parse((await cli('check', '--json')).stdout));
    assert.ok(infra.some((i) => i.infra === 'local') && infra.some((i) => i.infra === 'ssh'));
    const info = JSON.parse((await cli('api', 'info', '-o', 'json')).stdout) as { endpoint: string; health: { status: string } };
    assert.equal(info.endpoint, server.url);
    for (const command of [['gpus', 'list'], ['show-gpus']]) {
      const gpus = await cli(...command, '-o', 'json');
      assert.equal(gpus.code, 0, gpus.stderr);
      assert.ok(Array.isArray(JSON.parse(gpus.stdout)), gpus.stdout);
    }
    assert.equal((await cli('check', '-o', 'yaml')).code, 2);

    const some = await cli('check', 'ssh', 'slurm');
    assert.equal(some.code, 0, some.stderr);
    assert.match(some.stdout, /^ssh\s+no/m);
    assert.match(some.stdout, /^slurm\s+no/m);
    assert.doesNotMatch(some.stdout, /^local\s/m);
    const local = JSON.parse((await cli('check', 'local', '-o', 'json')).stdout) as InfraStatus[];
    assert.deepEqual(local.map((i) => i.infra), ['local']);
    const unknown = await cli('check', 'aws');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no infra named aws on this server; it has local, ssh, slurm/);
  });

  it('api status --all-status includes finished requests; -c keeps one cluster\'s; -v shows whole ids', async () => {
    const other = await cli('launch', '-c', 'f2', '-y', '--', 'true');
    assert.equal(other.code, 0, other.stderr);
    const all = JSON.parse((await cli('api', 'status', '--all-status', '-o', 'json')).stdout) as RequestSummary[];
    assert.ok(all.some((r) => r.clusterName === 'f1' && r.status === 'SUCCEEDED'));
    const oldName = JSON.parse((await cli('api', 'status', '--all', '--json')).stdout) as RequestSummary[];
    assert.ok(oldName.some((r) => r.status === 'SUCCEEDED'), 'the former long name --all still works');
    const onF2 = JSON.parse((await cli('api', 'status', '-a', '-c', 'f2', '--json')).stdout) as RequestSummary[];
    assert.ok(onF2.length > 0);
    assert.deepEqual([...new Set(onF2.map((r) => r.clusterName))], ['f2']);
    const verbose = await cli('api', 'status', '-a', '-c', 'f2', '-v');
    assert.ok(verbose.stdout.includes(onF2[0]!.id), verbose.stdout);
    assert.ok(!(await cli('api', 'status', '-a', '-c', 'f2')).stdout.includes(onF2[0]!.id), 'without -v the ids are short');
    assert.match((await cli('api', 'status', '-c', 'nosuch')).stdout, /No ongoing requests on cluster nosuch/);
    const logs = await cli('api', 'logs', onF2[0]!.id.slice(0, 8), '--follow');
    assert.equal(logs.code, 0, logs.stderr);
  });

  it('api cancel -a asks first; -y cancels without asking', async () => {
    const id = (await cli('launch', '-c', 'f1', '-y', '--async', 'sleep 60')).stdout.trim();
    await eventually(async () => (await server.json<RequestSummary>(`/api/requests/${id}`)).body.status === 'RUNNING' || undefined, 15_000, 'the launch running');
    const declined = await answering('no\n', 'api', 'cancel', '-a');
    assert.equal(declined.code, 1, declined.stdout + declined.stderr);
    assert.match(declined.stdout, new RegExp(`Cancelling all your ongoing requests: .*${id.slice(0, 8)} \\(launch\\).*Proceed\\?`));
    assert.equal((await server.json<RequestSummary>(`/api/requests/${id}`)).body.status, 'RUNNING');
    const yes = await cli('api', 'cancel', '-a', '-y');
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal((await server.waitFor(id)).status, 'CANCELLED');
  });

  // It stops and tears down every cluster (before managed jobs make clusters of their own).
  it("autostop, stop and down take -u for everyone's clusters; start -a and autostop -a ask first", async () => {
    const id = await server.submit('launch', { task: { run: 'echo alice' }, clusterName: 'alicef' }, ALICE);
    assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');

    const declined = await answering('n\n', 'autostop', '-a', '-i', '20');
    assert.equal(declined.code, 1, declined.stdout + declined.stderr);
    assert.match(declined.stdout, /Scheduling autostop on 2 clusters: f1, f2\. Proceed\?/);
    assert.equal((await cluster('f1'))!.autostop, undefined);
    const everyone = await cli('autostop', '-u', '-i', '30', '-y');
    assert.equal(everyone.code, 0, everyone.stderr);
    for (const name of ['f1', 'f2', 'alicef']) assert.equal((await cluster(name))!.autostop, 30, name);

    const stopped = await cli('stop', '-u', '-y');
    assert.equal(stopped.code, 0, stopped.stderr);
    for (const c of await clusters()) assert.equal(c.status, 'STOPPED', c.name);

    const notStarted = await answering('n\n', 'start', '-a');
    assert.equal(notStarted.code, 1, notStarted.stdout + notStarted.stderr);
    assert.match(notStarted.stdout, /Starting clusters: f1, f2\./);
    assert.equal((await cluster('f1'))!.status, 'STOPPED');
    const started = await cli('start', '-a', '-y');
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await cluster('f1'))!.status, 'UP');
    assert.equal((await cluster('alicef'))!.status, 'STOPPED', "-a is yours only: alice's cluster stays stopped");

    const down = await cli('down', '-u', '-y');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await clusters(), []);
  });

  it('jobs launch -d returns once submitted and -c names the job; jobs logs -n follows it; jobs queue -l/-v/-r', async () => {
    const first = await cli('jobs', 'launch', '-y', '-d', '-c', 'nightly', '--', 'echo managed-hello');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout.trim(), /^\d+$/, 'only the job id on stdout: -d streams nothing');
    assert.match(first.stderr, /-c\/--cluster is a deprecated alias of -n\/--name/);
    const byName = await cli('jobs', 'logs', '-n', 'nightly');
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /managed-hello/);
    assert.equal((await cli('jobs', 'logs', '-n', 'nope')).code, 1);
    assert.equal((await cli('jobs', 'launch', '-y', '-c', 'a', '-n', 'b', '--', 'true')).code, 2);

    const second = await cli('jobs', 'launch', '-y', '-d', '-n', 'second', '--', 'true');
    assert.equal(second.code, 0, second.stderr);
    const limited = await cli('jobs', 'queue', '-l', '1', '-v', '-r');
    assert.equal(limited.code, 0, limited.stderr);
    const rows = limited.stdout.trim().split('\n');
    assert.match(rows[0]!, /STATUS\s+CLUSTER\s+INFRA\s+RECOVERY/);
    assert.equal(rows.length, 2, limited.stdout);
    assert.match(rows[1]!, /\bsecond\b.*EAGER_NEXT_REGION/);
    assert.match(limited.stderr, /Showing the 1 most recent/);
    assert.match(limited.stderr, /-r\/--refresh changes nothing here/);
    assert.equal((await cli('jobs', 'queue', '-l', '0')).code, 2);
  });
});

describe('api login -t / --service-account-token / --relogin', () => {
  let team: Awaited<ReturnType<typeof startTeamServer>>;
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-login-'));
  before(async () => {
    team = await startTeamServer([{ name: 'root', role: 'admin' }, { name: 'bob', role: 'user' }], [], false);
  });
  after(async () => {
    await team.server.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('logs in with a service-account token under each of its names', async () => {
    const token = admin(team.server.dataDir, ['tokens', 'create', 'ci']).trim();
    const target = { home, url: team.server.url };
    for (const flags of [['-t', token], ['--service-account-token', token, '--relogin'], ['--token', token]]) {
      const login = await runCli(target, ['api', 'login', '-e', team.server.url, ...flags]);
      assert.equal(login.code, 0, `${flags[0]}: ${login.stderr}`);
      assert.match(login.stdout, /Logged in to .* auth: /);
      if (flags.includes('--relogin')) assert.match(login.stderr, /--relogin: every `skydeck api login` checks the credentials/);
    }
    const wrong = await runCli(target, ['api', 'login', '-e', team.server.url, '-t', 'skdk_wrong']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the login/);
  });

  it("status -u of a user who may not list everyone's managed jobs still shows the clusters", async () => {
    const bob = { home, url: team.server.url.replace('://', `://bob:${team.accounts.bob.password}@`) };
    const run = await runCli(bob, ['status', '-u']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /No existing clusters\./);
  });
});
