// SkyPilot's flags SkyDeck has nothing behind, through the real CLI and a real local server: accepted with
// a line saying why they change nothing (the command then does its work), or refused with the reason
// where going on would mislead (and nothing is created). Also the ones with a plain meaning here:
// --wait-for jobs, --job-recovery, gpus --cloud/--region, jobs logs -s, api logs --server-logs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ManagedJob } from '../../protocol/jobs';
import type { Cluster } from '../../protocol/model';
import { disposeWithWork, freePort, runCli } from '../helpers/cli';
import { processesWith, startServer, type TestServer } from '../helpers/server';

describe('sky flags explained or refused', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(server, args);
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;
  const managedJobs = async () => (await server.json<{ jobs: ManagedJob[] }>('/api/jobs?all_users=1')).body.jobs;
  const refused = async (args: string[], reason: RegExp) => {
    const run = await cli(...args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, reason, args.join(' '));
  };

  before(async () => {
    server = await startServer();
    const first = await cli('launch', '-c', 'ex1', '-y', '--wait-for', 'jobs', '-i', '30', '--', 'true');
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => disposeWithWork(server));

  it('refuses what would mislead, saying why, and creates nothing', async () => {
    await refused(['launch', '-c', 'nope', '-y', '--clone-disk-from', 'ex1', '--', 'true'], /--clone-disk-from: SkyDeck's infra .* has no disk images/);
    await refused(['launch', '-c', 'nope', '-y', '--docker', '--', 'true'], /--docker: SkyPilot's deprecated local docker backend; .* --image-id docker:IMAGE/);
    await refused(['launch', '-c', 'nope', '-y', '--wait-for', 'none', '--', 'true'], /--wait-for none: SkyDeck has no hard time limit/);
    await refused(['launch', '-c', 'nope', '-y', '--wait-for', 'jobs_and_ssh', '--', 'true'], /--wait-for jobs_and_ssh: open terminals do not keep a cluster busy here/);
    await refused(['launch', '-c', 'nope', '-y', '--wait-for', 'later', '--', 'true'], /expected jobs_and_ssh, jobs or none/);
    await refused(['autostop', 'ex1', '-i', '5', '--wait-for', 'none'], /--wait-for none/);
    await refused(['start', 'ex1', '--wait-for', 'jobs_and_ssh'], /--wait-for jobs_and_ssh/);
    await refused(['jobs', 'launch', '-y', '-p', 'workers', '--', 'true'], /-p\/--pool: SkyDeck has no pools of workers/);
    await refused(['jobs', 'launch', '-y', '--num-jobs', '3', '--', 'true'], /--num-jobs: it submits jobs to a pool/);
    await refused(['jobs', 'cancel', '-p', 'workers'], /-p\/--pool: SkyDeck has no pools/);
    await refused(['api', 'logs', '-l', '/tmp/x.log'], /-l\/--log-path: SkyDeck reads request logs by request id/);
    for (const flag of [['--deploy'], ['--host', '0.0.0.0'], ['--enable-basic-auth']]) {
      await refused(['api', 'start', ...flag], /this starts the local server, on loopback, for you alone; a server for a team .* docs\/deploy\.md/);
    }
    assert.deepEqual((await clusters()).map((c) => c.name), ['ex1']);
    assert.deepEqual(await managedJobs(), []);
  });

  it('--wait-for jobs is what autostop does: accepted on launch, start and autostop', async () => {
    assert.equal((await clusters())[0]!.autostop, 30, 'launch -i 30 --wait-for jobs set the autostop');
    const set = await cli('autostop', 'ex1', '-i', '20', '--wait-for', 'jobs');
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await clusters())[0]!.autostop, 20);
  });

  it('accepts --graceful, --workspace, gpus -a/--all-regions/-v and --config elsewhere with a line saying why, and does the work', async () => {
    const stop = await cli('stop', 'ex1', '-y', '--graceful', '--graceful-timeout', '10');
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /--graceful changes nothing here: SkyDeck has no cached uploads \(MOUNT_CACHED\)/);
    assert.equal((await clusters())[0]!.status, 'STOPPED');
    const start = await cli('start', 'ex1', '--config', 'jobs.controller.resources.cpus=2');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stderr, /--config changes nothing for `start`: config overrides shape tasks here/);
    assert.equal((await clusters())[0]!.status, 'UP');

    const check = await cli('check', '-w', 'default', 'local');
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /-w\/--workspace default: SkyDeck has no workspaces/);
    assert.match(check.stdout, /^local\s+yes/m);
    const gpus = await cli('gpus', 'list', '-a', '--all-regions', '-v', '-o', 'json');
    assert.equal(gpus.code, 0, gpus.stderr);
    assert.ok(Array.isArray(JSON.parse(gpus.stdout)));
    assert.match(gpus.stderr, /-a, --all-regions, -v: every accelerator on the enabled infra is listed/);
    const status = await cli('api', 'status', '--config', 'a=b');
    assert.match(status.stderr, /--config changes nothing for `api status`/);
  });

  it('gpus --cloud [--region] are the parts of --infra', async () => {
    assert.equal((await cli('gpus', 'list', '--cloud', 'local')).code, 0);
    await refused(['gpus', 'list', '--cloud', 'ssh', '--region', 'lab'], /no infra named ssh\/lab on this server/);
    await refused(['show-gpus', '--cloud', 'aws'], /no infra named aws on this server/);
    await refused(['gpus', 'list', '--region', 'lab'], /--region goes with --cloud/);
    await refused(['gpus', 'list', '--cloud', 'ssh', '--infra', 'ssh'], /give --infra, or --cloud \[--region\], not both/);
  });

  it('jobs launch --job-recovery sets the recovery strategy; jobs logs -s saves the log; jobs cancel --graceful is explained', async () => {
    const launched = await cli('jobs', 'launch', '-y', '-n', 'recov', '--job-recovery', 'FAILOVER', '--', 'echo recovered-output');
    assert.equal(launched.code, 0, launched.stderr);
    const job = (await managedJobs()).find((j) => j.name === 'recov')!;
    assert.equal(job.tasks[0]!.recovery.strategy, 'FAILOVER');
    const saved = await cli('jobs', 'logs', String(job.id), '-s');
    assert.equal(saved.code, 0, saved.stderr);
    const file = path.join(server.home, 'logs', 'managed-jobs', `job-${job.id}.log`);
    assert.equal(saved.stdout.trim(), `Managed job ${job.id} log: ${file}`);
    assert.match(readFileSync(file, 'utf8'), /recovered-output/);
    const cancel = await cli('jobs', 'cancel', String(job.id), '-y', '--graceful');
    assert.match(cancel.stderr, /--graceful changes nothing here/);
  });
});

describe('api logs --server-logs', () => {
  it("prints the local server's own log; a server elsewhere is refused", async (t) => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-serverlogs-'));
    const target = { home, url: `http://127.0.0.1:${await freePort()}` };
    t.after(() => {
      for (const pid of processesWith(`--data-dir ${path.join(home, 'server')}`)) process.kill(pid, 'SIGKILL');
      rmSync(home, { recursive: true, force: true });
    });
    assert.equal((await runCli(target, ['api', 'start'])).code, 0);
    const logs = await runCli(target, ['api', 'logs', '--server-logs', '--no-follow']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /listening on http:\/\/127\.0\.0\.1:/);
    const last = await runCli(target, ['api', 'logs', '--server-logs', '--no-follow', '--tail', '1']);
    assert.equal(last.stdout.trim().split('\n').length, 1, last.stdout);
    assert.equal((await runCli(target, ['api', 'logs', '--server-logs', 'abcd1234'])).code, 2);
    assert.equal((await runCli(target, ['api', 'stop'])).code, 0);

    const remote = await runCli({ home, url: 'http://skydeck.example.com:8080' }, ['api', 'logs', '--server-logs', '--no-follow']);
    assert.equal(remote.code, 2, remote.stderr);
    assert.match(remote.stderr, /--server-logs: the API server at http:\/\/skydeck\.example\.com:8080 is not on this machine/);
  });
});

// Every flag of the audit of SkyPilot's command.py/flags.py (2026-12-01): each command's --help must list it,
// so that none of them is an "unknown option" again.
const SKY_FLAGS: Record<string, string[]> = {
  launch: ['-c', '--cluster', '-y', '--yes', '-d', '--detach-run', '-i', '--idle-minutes-to-autostop', '--down', '-r', '--retry-until-up', '--no-setup', '--fast', '--dryrun', '--wait-for', '--git-url', '--git-ref', '--clone-disk-from', '--docker', '--config', '--async', '-n', '--name', '--workdir', '--infra', '--cloud', '--region', '--zone', '--num-nodes', '--cpus', '--memory', '--gpus', '-t', '--instance-type', '--use-spot', '--no-use-spot', '--image-id', '--disk-size', '--disk-tier', '--network-tier', '--ports', '--env', '--env-file', '--secret', '--secret-file'],
  exec: ['-c', '--cluster', '-d', '--detach-run', '--git-url', '--git-ref', '--config', '--async'],
  status: ['-v', '--verbose', '-r', '--refresh', '--ip', '--endpoints', '--endpoint', '--show-managed-jobs', '--no-show-managed-jobs', '--show-services', '--no-show-services', '--show-pools', '--no-show-pools', '-u', '--all-users', '-o', '--output', '--config'],
  queue: ['-u', '--all-users', '-s', '--skip-finished', '-o', '--output', '--config'],
  logs: ['--provision', '--autostop', '-w', '--worker', '-s', '--sync-down', '--status', '--follow', '--no-follow', '--tail', '--config'],
  cancel: ['-a', '--all', '-u', '--all-users', '-y', '--yes', '--async', '--config'],
  stop: ['-a', '--all', '-u', '--all-users', '-y', '--yes', '--graceful', '--graceful-timeout', '--async', '--config'],
  down: ['-a', '--all', '-u', '--all-users', '-y', '--yes', '-p', '--purge', '--graceful', '--graceful-timeout', '--async', '--config'],
  start: ['-a', '--all', '-y', '--yes', '-i', '--idle-minutes-to-autostop', '--wait-for', '--down', '-r', '--retry-until-up', '-f', '--force', '--async', '--config'],
  autostop: ['-a', '--all', '-u', '--all-users', '-i', '--idle-minutes', '--wait-for', '--cancel', '--down', '-y', '--yes', '--async', '--config'],
  check: ['-v', '--verbose', '-w', '--workspace', '-o', '--output', '--config'],
  'show-gpus': ['-a', '--all', '--infra', '--cloud', '--region', '--all-regions', '-v', '--verbose', '--config'],
  'gpus list': ['-a', '--all', '--infra', '--cloud', '--region', '--all-regions', '-v', '--verbose', '--config'],
  'jobs launch': ['-n', '--name', '-c', '--cluster', '-d', '--detach-run', '--job-recovery', '-p', '--pool', '--num-jobs', '--git-url', '--git-ref', '-y', '--yes', '--config', '--async'],
  'jobs queue': ['-v', '--verbose', '-l', '--limit', '-r', '--refresh', '-s', '--skip-finished', '-u', '--all-users', '-a', '--all', '-o', '--output', '--config'],
  'jobs logs': ['-n', '--name', '--follow', '--no-follow', '--controller', '-r', '--refresh', '-s', '--sync-down', '--config'],
  'jobs cancel': ['-n', '--name', '-a', '--all', '-u', '--all-users', '-y', '--yes', '-p', '--pool', '--graceful', '--graceful-timeout', '--config'],
  'api status': ['-a', '--all-status', '-l', '--limit', '-c', '--cluster', '-v', '--verbose', '-o', '--output', '--config'],
  'api logs': ['--server-logs', '-l', '--log-path', '--tail', '--follow', '--no-follow', '--config'],
  'api cancel': ['-a', '--all', '-u', '--all-users', '-y', '--yes', '--config'],
  'api login': ['-e', '--endpoint', '--relogin', '--service-account-token', '--token', '-t', '--config'],
  'api info': ['-o', '--output', '--config'],
  'api start': ['--deploy', '--host', '--foreground', '--enable-basic-auth', '--config'],
};

describe("every sky flag of the audit is one skydeck knows", () => {
  it('each command lists each of its SkyPilot flags in --help', async () => {
    const target = { home: mkdtempSync(path.join(os.tmpdir(), 'skydeck-help-')), url: 'http://127.0.0.1:9' };
    try {
      const missing: string[] = [];
      await Promise.all(
        Object.entries(SKY_FLAGS).map(async ([command, flags]) => {
          const help = await runCli(target, [...command.split(' '), '--help']);
          assert.equal(help.code, 0, `${command} --help: ${help.stderr}`);
          for (const flag of flags) if (!new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm').test(help.stdout)) missing.push(`${command} ${flag}`);
        }),
      );
      assert.deepEqual(missing, []);
    } finally {
      rmSync(target.home, { recursive: true, force: true });
    }
  });
});
