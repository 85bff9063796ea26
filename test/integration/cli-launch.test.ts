// `skydeck launch` and `exec` as a real process against the real server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RequestSummary } from '../../protocol/model';
import { disposeWithWork, runCli, spawnCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

describe('skydeck launch', () => {
  let server: TestServer;
  let tasks: TaskFiles;
  const task = (name: string, yaml: string) => tasks.write(name, yaml);
  const requestCount = async () => (await server.json<{ requests: RequestSummary[] }>('/api/requests?all=1')).body.requests.length;

  before(async () => {
    server = await startServer();
    tasks = taskFiles(server);
  });
  after(() => disposeWithWork(server));

  it('streams the job log and exits 0 when the job succeeds', async () => {
    const file = task('hello.yaml', 'name: hello\nrun: |\n  echo "rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES"\n  sleep 0.2\n  echo second line\n');
    const run = await runCli(server, ['launch', file, '-c', 'clia', '-y']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /rank 0 of 1\nsecond line/);
  });

  it("exits with the job's exit code when the job fails", async () => {
    const run = await runCli(server, ['launch', '-c', 'clia', '-y', 'echo failing now; exit 7']);
    assert.equal(run.code, 7, run.stderr);
    assert.match(run.stdout, /failing now/);
    assert.match(run.stderr, /^Error: .*exit/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('--async prints the request id at once and the request runs on', async () => {
    const run = await runCli(server, ['launch', '-c', 'clia', '-y', '--async', 'sleep 0.5; echo async done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.match(run.stderr, new RegExp(`skydeck api logs ${id.slice(0, 8)}`));
    const done = await server.waitFor(id);
    assert.equal(done.status, 'SUCCEEDED');
  });

  it('a bad task file gives file:line errors, exits 2 and creates no request', async () => {
    const before = await requestCount();
    const file = task('bad.yaml', 'name: bad\nresources:\n  cpu: 2\n  memory: lots\nrun: echo\n');
    const run = await runCli(server, ['launch', file, '-c', 'clia', '-y']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`${file}:3: resources\\.cpu: unknown key; did you mean cpus\\?`));
    assert.match(run.stderr, new RegExp(`${file}:4: resources\\.memory: `));
    assert.equal(await requestCount(), before);
  });

  it('YAML that does not parse, a missing required env and a missing workdir are refused before submitting', async () => {
    const before = await requestCount();
    const notYaml = await runCli(server, ['launch', task('broken.yaml', 'run: [\n'), '-c', 'clia', '-y']);
    assert.equal(notYaml.code, 2);
    assert.match(notYaml.stderr, /broken\.yaml.*not valid YAML/);
    const needsEnv = task('env.yaml', 'envs:\n  MODEL: small\n  TOKEN: null\nrun: echo $TOKEN\n');
    const missingEnv = await runCli(server, ['launch', needsEnv, '-c', 'clia', '-y']);
    assert.equal(missingEnv.code, 2);
    assert.equal(missingEnv.stderr.trim(), `${needsEnv}:3: envs.TOKEN: required env has no value; pass --env TOKEN=VALUE`);
    const noWorkdir = await runCli(server, ['launch', task('wd.yaml', 'workdir: ./nowhere\nrun: ls\n'), '-c', 'clia', '-y']);
    assert.equal(noWorkdir.code, 2);
    assert.match(noWorkdir.stderr, /wd\.yaml:1: workdir: .*nowhere is not a directory/);
    assert.equal(await requestCount(), before);
  });

  it('infra that is not enabled is refused by the server at the line of the task file', async () => {
    const before = await requestCount();
    const file = task('aws.yaml', 'name: cloudy\nresources:\n  cloud: aws\nrun: echo\n');
    const run = await runCli(server, ['launch', file, '-c', 'clia', '-y']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`${file}:3: resources\\.(infra|cloud): .*aws`));
    assert.equal(await requestCount(), before);
  });

  it('--env, a bare --env taken from the environment, and --env-file fill envs; workdir is relative to the task file', async () => {
    mkdirSync(path.join(tasks.dir, 'code'), { recursive: true });
    writeFileSync(path.join(tasks.dir, 'code', 'marker.txt'), 'from-workdir\n');
    writeFileSync(path.join(tasks.dir, 'vars.env'), 'FROM_FILE=file-value\nOVERRIDDEN=file\n');
    const file = task('envs.yaml', 'workdir: code\nenvs:\n  TOKEN: null\n  OVERRIDDEN: null\n  FROM_SHELL: null\nrun: |\n  echo "token=$TOKEN file=$FROM_FILE over=$OVERRIDDEN shell=$FROM_SHELL"\n  cat marker.txt\n');
    const run = await runCli(server, ['launch', file, '-c', 'clib', '-y', '--env', 'TOKEN=abc', '--env-file', path.join(tasks.dir, 'vars.env'), '--env', 'OVERRIDDEN=arg', '--env', 'FROM_SHELL'], {
      env: { FROM_SHELL: 'shell-value' },
      cwd: server.home,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /token=abc file=file-value over=arg shell=shell-value/);
    assert.match(run.stdout, /from-workdir/);
  });

  it('without -y it shows what will run where and submits nothing when the answer is no', async () => {
    const before = await requestCount();
    const file = task('ask.yaml', 'name: ask\nresources:\n  cpus: 1\nrun: echo asked\n');
    const no = await runCli(server, ['launch', file, '-c', 'clic'], { input: 'n\n' });
    assert.equal(no.code, 1);
    assert.match(no.stdout, /Task: ask \(1 node\)/);
    assert.match(no.stdout, /Infra: local\s+Resources: cpus=1/);
    assert.match(no.stdout, /Cluster: clic \(new; it will be provisioned\)/);
    assert.match(no.stdout, /Considered resources:\nINFRA\s+NODES\s+vCPUs\s+Mem\(GB\)\s+GPUS\s+CHOSEN\nlocal\s+1\s+\d+\s+[\d.]+\s+-\s+✔/);
    assert.match(no.stdout, /Proceed\? \[Y\/n\]/);
    assert.match(no.stderr, /nothing was submitted/);
    assert.equal(await requestCount(), before);
    const yes = await runCli(server, ['launch', file, '-c', 'clic'], { input: '\n' });
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /asked/);
  });

  it('--detach-run returns once the job has started; exec runs on the existing cluster', async () => {
    // The job runs until the test has read the queue (a fixed sleep lost that race on a loaded machine).
    const release = path.join(server.home, 'release-clid');
    try {
      const detached = await runCli(server, ['launch', '-c', 'clid', '-y', '--detach-run', `until [ -e ${release} ]; do sleep 0.1; done; echo late`]);
      assert.equal(detached.code, 0, detached.stderr);
      assert.match(detached.stdout, /skydeck logs clid 1/);
      const queue = await runCli(server, ['queue', 'clid', '--json']);
      const jobs = JSON.parse(queue.stdout) as { jobId: number; status: string }[];
      assert.ok(['RUNNING', 'SETTING_UP', 'PENDING'].includes(jobs[0]!.status), jobs[0]!.status);
    } finally {
      writeFileSync(release, '');
    }
    const exec = await runCli(server, ['exec', 'clid', 'echo exec-ran-here']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /exec-ran-here/);
  });

  it('exec on a cluster that does not exist fails with a clear message', async () => {
    const run = await runCli(server, ['exec', '-c', 'nosuch', 'echo hi']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: .*nosuch/m);
  });

  it('a task no enabled infra can hold is refused with the reason before the prompt, and nothing is submitted', async () => {
    const before = await requestCount();
    const run = await runCli(server, ['launch', task('huge.yaml', 'resources:\n  cpus: 4096\nrun: echo never\n'), '-c', 'clie'], { input: 'y\n' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no enabled infra can run 1 node, 4096 CPUs:\n\s+local: the task asks for 4096 CPUs; this machine has \d+/);
    assert.doesNotMatch(run.stdout, /Proceed\?/);
    assert.equal(await requestCount(), before);
  });

  it('says why a followed request waits while it has printed nothing', async () => {
    const busy = await startServer({ args: ['--long-workers', '1'] });
    const blocker = await busy.submit('launch', { clusterName: 'blocker', task: { run: 'sleep 30' } });
    const cli = spawnCli(busy, ['launch', '-c', 'waiter', '-y', 'echo finally']);
    try {
      await cli.waitForOutput(/Waiting: waiting for a worker: 1 long requests running \(limit 1\)/, 20_000, 'stderr');
      await busy.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [blocker] }) });
      const run = await cli.done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /finally/);
    } finally {
      cli.dispose();
      await busy.dispose();
    }
  });
});
