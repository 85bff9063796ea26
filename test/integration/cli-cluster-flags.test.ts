// SkyPilot's flags with behaviour behind them, through the real CLI and a real local server:
// --git-url/--git-ref (a git workdir), start -i/--down (and -r/-f explained), down -p/--purge (a cluster
// whose teardown fails is forgotten all the same, saying what may be left), logs --provision (and -w,
// --autostop refused), status --show-managed-jobs/--no-show-managed-jobs (services and pools explained).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../protocol/model';
import { disposeWithWork, runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { versionRepo } from '../helpers/git-repo';
import { startServer, type TestServer } from '../helpers/server';

describe('cluster flags', () => {
  let server: TestServer;
  let files: TaskFiles;
  let repo: string;
  const cli = (...args: string[]) => runCli(server, args);
  const cluster = async (name: string) => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters.find((c) => c.name === name);

  before(async () => {
    server = await startServer();
    files = taskFiles(server);
    // A repository with v1 tagged, then v2 on main.
    repo = path.join(server.home, 'repo');
    versionRepo(repo, [['v1'], ['v2']]);
  });
  after(() => disposeWithWork(server));

  it('--git-url/--git-ref make the workdir a git checkout; a file\'s git workdir takes either one', async () => {
    const tagged = await cli('launch', '-c', 'gits', '-y', '--git-url', `file://${repo}`, '--git-ref', 'v1', '--', 'cat version.txt');
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.match(tagged.stdout, /^v1$/m);
    // A path on the command line is taken from where the command runs.
    const relative = await runCli(server, ['exec', 'gits', '--git-url', './repo', '--', 'cat version.txt'], { cwd: server.home });
    assert.equal(relative.code, 0, relative.stderr);
    assert.match(relative.stdout, /^v2$/m);
    const file = files.write('git.yaml', `workdir:\n  url: file://${repo}\n  ref: main\nrun: cat version.txt\n`);
    const refOnly = await cli('exec', 'gits', file, '--git-ref', 'v1');
    assert.equal(refOnly.code, 0, refOnly.stderr);
    assert.match(refOnly.stdout, /^v1$/m);

    const both = await cli('launch', '-c', 'gitx', '-y', '--git-url', `file://${repo}`, '--workdir', repo, '--', 'true');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--git-url and --workdir both set the workdir/);
    const noRepo = await cli('launch', '-c', 'gitx', '-y', '--git-ref', 'v1', '--', 'true');
    assert.equal(noRepo.code, 2);
    assert.match(noRepo.stderr, /--git-ref needs a repository/);
    assert.equal(await cluster('gitx'), undefined, 'a refused flag creates nothing');
  });

  it('logs --provision prints how the cluster was provisioned, up to UP; -w and --autostop are refused with why', async () => {
    const run = await cli('logs', 'gits', '--provision');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Choosing infra for gits\.\.\.$/m);
    assert.match(run.stdout, /^Provisioning gits on local\.\.\.$/m);
    assert.match(run.stdout.trim(), /Cluster gits is UP \(1 node\)\.$/);
    assert.doesNotMatch(run.stdout, /^v1$/m, 'the job output is not provisioning');
    assert.match(run.stderr, /from launch request [0-9a-f]{8}/);
    const last = await cli('logs', 'gits', '--provision', '--tail', '1');
    assert.equal(last.stdout.trim(), 'Cluster gits is UP (1 node).');
    const worker = await cli('logs', 'gits', '--provision', '-w', '1');
    assert.equal(worker.code, 2);
    assert.match(worker.stderr, /-w\/--worker: SkyDeck provisions a cluster's nodes in one log/);
    const hook = await cli('logs', 'gits', '--autostop');
    assert.equal(hook.code, 2);
    assert.match(hook.stderr, /--autostop: SkyDeck runs no autostop hook/);
    assert.equal((await cli('logs', 'gits', '1', '--provision')).code, 2);
  });

  it('start -i N --down starts the cluster and sets its autodown; --down alone is refused; -r and -f are explained', async () => {
    assert.equal((await cli('stop', 'gits', '-y')).code, 0);
    assert.equal((await cluster('gits'))!.status, 'STOPPED');
    const refused = await cli('start', 'gits', '--down');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--down needs -i/);
    const run = await cli('start', 'gits', '-i', '30', '--down', '-r', '-f');
    assert.equal(run.code, 0, run.stderr);
    const started = (await cluster('gits'))!;
    assert.equal(started.status, 'UP');
    assert.equal(started.autostop, 30);
    assert.equal(started.autostopDown, true);
    assert.match(run.stderr, /-r\/--retry-until-up changes nothing for start/);
    assert.match(run.stderr, /-f\/--force changes nothing here/);
  });

  it('status lists managed jobs in progress after the clusters, unless --no-show-managed-jobs; services and pools are explained', async () => {
    const job = await cli('jobs', 'launch', '-y', '-d', '-n', 'longjob', '--', 'sleep 60');
    assert.equal(job.code, 0, job.stderr);
    const id = job.stdout.trim();
    try {
      const shown = await cli('status', '--show-services', '--show-pools');
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^gits\s/m);
      assert.match(shown.stdout, /^Managed jobs in progress: 1 [A-Z]+$/m);
      assert.match(shown.stdout, new RegExp(`^${id}\\s+longjob\\s`, 'm'));
      assert.match(shown.stderr, /--show-services: SkyDeck runs no services/);
      assert.match(shown.stderr, /--show-pools: SkyDeck has no pools/);
      const hidden = await cli('status', '--no-show-managed-jobs');
      assert.doesNotMatch(hidden.stdout, /Managed jobs|longjob/);
    } finally {
      assert.equal((await cli('jobs', 'cancel', id, '-y')).code, 0);
    }
  });

  it('--async on autostop, stop, start and cancel prints the request id and returns; the request does the work', async () => {
    const submitted = async (...args: string[]) => {
      const run = await cli(...args);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Follow it: skydeck api logs [0-9a-f]{8}/);
      const done = await server.waitFor(run.stdout.trim());
      assert.equal(done.status, 'SUCCEEDED', `${args.join(' ')}: ${JSON.stringify(done.error)}`);
    };
    await submitted('autostop', 'gits', '-i', '40', '--async');
    assert.equal((await cluster('gits'))!.autostop, 40);
    assert.equal((await cli('exec', 'gits', '-d', 'sleep 60')).code, 0);
    const job = Math.max(...(await server.json<{ jobs: { jobId: number }[] }>('/api/clusters/gits/jobs')).body.jobs.map((j) => j.jobId));
    await submitted('cancel', 'gits', String(job), '-y', '--async');
    await submitted('stop', 'gits', '-y', '--async');
    assert.equal((await cluster('gits'))!.status, 'STOPPED');
    await submitted('start', 'gits', '--async');
    assert.equal((await cluster('gits'))!.status, 'UP');
    assert.equal((await cli('start', 'gits', '-i', '5', '--async')).code, 2);
  });

  it('down -p forgets a cluster whose teardown fails, saying what may be left; without -p it is kept', async (t) => {
    assert.equal((await cli('launch', '-c', 'stuck', '-y', '--', 'true')).code, 0);
    // A mount inside the cluster's sandbox makes removing it fail (EBUSY), as a real teardown can.
    const mountPoint = path.join(server.dataDir, 'clusters', 'stuck', 'busy');
    mkdirSync(mountPoint, { recursive: true });
    if (spawnSync('mount', ['-t', 'tmpfs', 'none', mountPoint]).status !== 0) return t.skip('needs root and mount(8) to make a teardown fail');
    try {
      const kept = await cli('down', 'stuck', '-y');
      assert.equal(kept.code, 1, kept.stdout + kept.stderr);
      assert.match(kept.stdout + kept.stderr, /tearing down stuck failed: .*the cluster is kept\. `skydeck down stuck --purge` forgets it anyway/);
      assert.ok(await cluster('stuck'), 'kept after a failed teardown');

      const purged = await cli('down', 'stuck', '-p', '-y');
      assert.equal(purged.code, 0, purged.stdout + purged.stderr);
      assert.match(purged.stdout, /Teardown failed: /);
      assert.match(purged.stdout, /--purge: forgetting stuck anyway\. What may be left on local: node 0 at .*\(its jobs' processes and files there\)\./);
      assert.equal(await cluster('stuck'), undefined);
    } finally {
      spawnSync('umount', [mountPoint]);
      if (existsSync(mountPoint)) rmSync(path.dirname(mountPoint), { recursive: true, force: true });
    }
  });
});
