// SkyPilot's task flags on `skydeck launch` / `exec`, through the real CLI and server: flags override the
// file, --dryrun creates nothing, chains and bad flags are refused before anything is created, and the
// launch-only flags (--down, --no-setup, --retry-until-up) do what SkyPilot's do.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Job, RequestSummary } from '../../protocol/model';
import { disposeWithWork, runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

describe('skydeck launch and exec flags', () => {
  let server: TestServer;
  let tasks: TaskFiles;
  const task = (name: string, yaml: string) => tasks.write(name, yaml);
  const requests = async () => (await server.json<{ requests: RequestSummary[] }>('/api/requests?all=1')).body.requests;
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;
  const jobs = async (cluster: string) => (await server.json<{ jobs: Job[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs;

  before(async () => {
    // No container engine answers this server (whatever this machine runs): image_id is refused for that reason.
    server = await startServer({ env: { SKYDECK_RETRY_UNTIL_UP_MS: '300', DOCKER_HOST: 'unix:///nonexistent/skydeck-test-docker.sock' } });
    tasks = taskFiles(server);
  });
  after(() => disposeWithWork(server));

  it('flags override the file: name, envs, secrets, resources', async () => {
    const file = task('train.yaml', 'name: from-file\nresources:\n  cpus: 1\n  use_spot: true\n  instance_type: p3.2xlarge\nenvs:\n  MODE: file\nsecrets:\n  KEY: null\nrun: echo "mode=$MODE key=$KEY"\n');
    const run = await runCli(server, ['launch', file, '-c', 'flags', '-y', '-n', 'from-flag', '--env', 'MODE=flag', '--secret', 'KEY=s3cret', '--no-use-spot', '--instance-type', 'none', '--cpus', '1+']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /mode=flag key=s3cret/);
    const [job] = await jobs('flags');
    assert.equal(job!.name, 'from-flag');
  });

  it('--dryrun prints the plan and creates nothing', async () => {
    const before = (await requests()).length;
    const run = await runCli(server, ['launch', '-c', 'dry', '--cpus', '1', '--dryrun', '--', 'echo never']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Considered resources:\nINFRA/);
    assert.match(run.stderr, /Dry run: nothing was created/);
    assert.equal((await requests()).length, before, 'no request was submitted');
    assert.ok(!(await clusters()).some((c) => c.name === 'dry'), 'no cluster was created');
  });

  it('a container image is refused at its key where no container runtime answers, rather than run outside it', async () => {
    const before = (await requests()).length;
    const run = await runCli(server, ['launch', '-c', 'img', '--image-id', 'docker:ubuntu', '--', 'echo never'], { input: 'y\n' });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /local: image_id docker:ubuntu: no container runtime on this machine \((docker: .+|no docker command)\)/);
    assert.equal((await requests()).length, before, 'no request was submitted');
    assert.ok(!(await clusters()).some((c) => c.name === 'img'), 'no cluster was created');
  });

  it('cloud storage and bucket mounts are refused at their keys and lines, not dropped, with nothing created', async () => {
    const before = (await requests()).length;
    const file = task(
      'storage.yaml',
      'file_mounts:\n  /data: s3://bucket/data\n  /ckpt:\n    name: ckpt\n    source: gs://bucket/ckpt\n    mode: MOUNT\n  /named:\n    name: existing-bucket\n  /mounted:\n    source: .\n    mode: MOUNT\nrun: echo never\n',
    );
    const run = await runCli(server, ['launch', file, '-c', 'stor', '-y']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /file_mounts\.\/data: cloud storage \(s3:\/\/bucket\/data\) is not reachable from SkyDeck's infra/);
    assert.match(run.stderr, /file_mounts\.\/ckpt: cloud storage \(gs:\/\/bucket\/ckpt\) is not reachable/);
    assert.match(run.stderr, /file_mounts\.\/named: a storage mapping without a local source names a bucket \(existing-bucket\), and cloud storage is not reachable/);
    assert.match(run.stderr, /file_mounts\.\/mounted: mode MOUNT mounts a bucket, which SkyDeck's infra has none of; mode: COPY copies the local source to the nodes/);
    assert.equal((await requests()).length, before, 'no request was submitted');
    assert.ok(!(await clusters()).some((c) => c.name === 'stor'), 'no cluster was created');
  });

  it('a command after -- with resource flags, and a launch with no task at all, as SkyPilot documents', async () => {
    const run = await runCli(server, ['launch', '-c', 'inline', '--cpus', '1', '-y', '--', 'echo', 'inline', 'words']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /inline words/);
    const bare = await runCli(server, ['launch', '-c', 'bare', '--cpus', '1', '-y']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal((await clusters()).find((c) => c.name === 'bare')?.status, 'UP');
  });

  it('a chain of tasks is refused by launch and exec, naming why, with nothing created', async () => {
    const before = (await requests()).length;
    const file = task('chain.yaml', 'name: pipe\n---\nname: a\nrun: echo a\n---\nname: b\nrun: echo b\n');
    for (const args of [['launch', file, '-c', 'chain', '-y'], ['exec', 'flags', file]]) {
      const run = await runCli(server, args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /chain of 2 tasks .*launch and exec run one task/);
    }
    assert.equal((await requests()).length, before);
  });

  it('bad flags and conflicting flags are refused before anything is created', async () => {
    const before = (await requests()).length;
    const anyOf = task('anyof.yaml', 'resources:\n  any_of:\n    - infra: local\n      cpus: 1\n    - infra: local\n      cpus: 2\nrun: echo\n');
    const conflict = await runCli(server, ['launch', anyOf, '-c', 'conflict', '-y', '--cpus', '4']);
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, new RegExp(`${anyOf}:4: resources\\.any_of\\.0\\.cpus: --cpus cannot override cpus`));
    for (const [flag, value, message] of [
      ['--cpus', 'many', /--cpus: expected a number/],
      ['--ports', '99999', /--ports: .*99999/],
      ['--infra', 'nowhere', /--infra "nowhere"/],
      ['--num-nodes', 'two', /--num-nodes.*whole number/],
    ] as const) {
      const run = await runCli(server, ['launch', '-c', 'badflag', '-y', flag, value, '--', 'echo']);
      assert.equal(run.code, 2, `${flag} ${value}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.equal((await requests()).length, before);
    assert.ok(!(await clusters()).some((c) => c.name === 'conflict' || c.name === 'badflag'));
  });

  it('--no-setup skips the setup commands', async () => {
    const file = task('setup.yaml', 'setup: echo SETUP-RAN\nrun: echo RUN-RAN\n');
    const run = await runCli(server, ['launch', file, '-c', 'nosetup', '-y', '--no-setup']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /RUN-RAN/);
    assert.doesNotMatch(run.stdout, /SETUP-RAN/);
  });

  it('--down tears the cluster down once the job has ended', async () => {
    const run = await runCli(server, ['launch', '-c', 'downer', '-y', '--down', '--', 'echo bye']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /bye[\s\S]*Cluster downer is gone/);
    assert.ok(!(await clusters()).some((c) => c.name === 'downer'));
  });

  it('--retry-until-up waits for capacity, saying why, until cancelled; nothing is left behind', async () => {
    const run = await runCli(server, ['launch', '-c', 'waiter', '-y', '-r', '--async', '--cpus', '100000', '--', 'echo']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const deadline = Date.now() + 15_000;
    let waiting: RequestSummary | undefined;
    while (Date.now() < deadline) {
      waiting = (await requests()).find((r) => r.id === id);
      if (waiting?.statusMessage?.startsWith('PENDING: waiting for capacity')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(waiting?.status, 'RUNNING');
    assert.match(waiting!.statusMessage!, /PENDING: waiting for capacity: .*local/);
    const cancel = await runCli(server, ['api', 'cancel', id.slice(0, 8)]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal((await server.waitFor(id)).status, 'CANCELLED');
    assert.ok(!(await clusters()).some((c) => c.name === 'waiter'), 'no half-created cluster');
  });
});
