// `image_id: docker:IMAGE` on local infra, through the real CLI and server, on a real Docker engine with
// an image built on this machine (test/docker/run.sh starts the engine and builds the image; nothing can
// be pulled here). Setup and run execute in the image, see the workdir, the file mounts, the envs and the
// SKYPILOT_* variables; the container is the cluster's for its life (exec reuses it); cancel ends the
// process inside it; down removes it; an image that cannot be had fails the launch and leaves nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../protocol/model';
import { disposeWithWork, runCli, spawnCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';

const IMAGE = process.env.SKYDECK_TEST_IMAGE;
const skip = !IMAGE || !process.env.DOCKER_HOST ? 'needs DOCKER_HOST and SKYDECK_TEST_IMAGE: run through test/docker/run.sh' : false;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Names of the containers (running or not) labelled as this cluster's. */
function containersOf(cluster: string): string[] {
  return docker('ps', '-a', '--filter', `label=skydeck.cluster=${cluster}`, '--format', '{{.Names}}').split('\n').filter(Boolean);
}

describe('image_id docker:IMAGE on local infra', { skip }, () => {
  let server: TestServer;
  let tasks: TaskFiles;
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;

  before(async () => {
    server = await startServer();
    tasks = taskFiles(server);
  });
  after(() => disposeWithWork(server));

  it('runs setup and run inside the image with the workdir, file mounts, envs and SKYPILOT_* variables; exec reuses the container; down removes it', async () => {
    const workdir = path.join(server.home, 'code');
    mkdirSync(workdir);
    writeFileSync(path.join(workdir, 'train.py'), 'the workdir file\n');
    const data = path.join(server.home, 'data.txt');
    writeFileSync(data, 'mounted data\n');
    const file = tasks.write(
      'image.yaml',
      [
        'name: in-image',
        `workdir: ${workdir}`,
        'file_mounts:',
        `  /data/input.txt: ${data}`,
        'resources:',
        '  infra: local',
        `  image_id: docker:${IMAGE}`,
        'envs:',
        '  GREETING: hello',
        'setup: |',
        '  . /etc/os-release; echo "setup in $ID"',
        '  echo kept > /tmp/left-by-setup',
        'run: |',
        '  . /etc/os-release; echo "run in $ID"',
        '  echo "workdir $(pwd): $(cat train.py)"',
        '  echo "mount: $(cat /data/input.txt)"',
        '  echo "env $GREETING rank=$SKYPILOT_NODE_RANK nodes=$SKYPILOT_NUM_NODES"',
        '',
      ].join('\n'),
    );
    const run = await runCli(server, ['launch', file, '-c', 'img', '-y']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // ID=skydeck-test is only in the image's /etc/os-release (scripts/docker/test-image.sh).
    assert.match(run.stdout, /setup in skydeck-test/);
    assert.match(run.stdout, /run in skydeck-test/);
    assert.match(run.stdout, /workdir \/.*\/clusters\/img\/workdir: the workdir file/);
    assert.match(run.stdout, /mount: mounted data/);
    assert.match(run.stdout, /env hello rank=0 nodes=1/);
    assert.doesNotMatch(run.stdout, /Done|\[1\]/, 'no job-control notices in the log');
    assert.equal((await clusters()).find((c) => c.name === 'img')?.resources.imageId, `docker:${IMAGE}`);
    const [container] = containersOf('img');
    assert.ok(container, 'the cluster has a container');
    assert.equal(docker('inspect', '--format', '{{.State.Running}}', container), 'true', 'the container is kept between jobs');

    // The same container: what setup left in its /tmp is still there (it is in no host folder).
    const again = await runCli(server, ['exec', '-c', 'img', '--', '. /etc/os-release; echo "exec in $ID: $(cat /tmp/left-by-setup)"']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /exec in skydeck-test: kept/);
    assert.deepEqual(containersOf('img'), [container]);

    const other = await runCli(server, ['exec', '-c', 'img', '--image-id', 'docker:some/other:1', '--', 'true']);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /cluster img runs in a container of docker:.*; the task asks for image_id docker:some\/other:1/);

    // A terminal on the cluster is in its container too, in the workdir.
    const shell = await runCli(server, ['ssh', 'img', '--', '. /etc/os-release; echo "shell in $ID at $(pwd), $(cat /tmp/left-by-setup)"']);
    assert.equal(shell.code, 0, shell.stdout + shell.stderr);
    assert.match(shell.stdout, /shell in skydeck-test at \/.*\/clusters\/img\/workdir, kept/);

    const down = await runCli(server, ['down', 'img', '-y']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(containersOf('img'), [], 'down removes the container');
  });

  it('cancel ends the process inside the container', async () => {
    const marker = `sleeper-${process.pid}`;
    const launch = spawnCli(server, ['launch', '-c', 'cancelme', '--image-id', `docker:${IMAGE}`, '-y', '--', `echo started; bash -c 'sleep 300; : ${marker}'`]);
    try {
      await launch.waitForOutput(/started/, 60_000);
      const [container] = containersOf('cancelme');
      assert.ok(container);
      const inside = () => docker('top', container!).includes(marker);
      await eventually(() => inside(), 10_000, 'the job to run in the container');
      const cancel = await runCli(server, ['cancel', 'cancelme', '1']);
      assert.equal(cancel.code, 0, cancel.stderr);
      await eventually(() => !inside(), 10_000, 'the process in the container to end');
      const queue = await runCli(server, ['queue', 'cancelme']);
      assert.match(queue.stdout, /CANCELLED/);
    } finally {
      launch.dispose();
    }
  });

  it('a managed job runs in the image too, and its container goes with its cluster', async () => {
    const file = tasks.write('managed.yaml', `name: managed\nresources:\n  infra: local\n  image_id: docker:${IMAGE}\nrun: . /etc/os-release; echo "managed in $ID"\n`);
    const run = await runCli(server, ['jobs', 'launch', file, '-y']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /managed in skydeck-test/);
    const leftover = docker('ps', '-a', '--filter', 'label=skydeck.cluster', '--format', '{{.Label "skydeck.cluster"}}').split('\n').filter((c) => c.startsWith('sky-jobs-'));
    assert.deepEqual(leftover, [], 'the managed cluster took its container with it');
  });

  it('an image that is not here and cannot be pulled fails the launch, naming it, and leaves nothing', async () => {
    const run = await runCli(server, ['launch', '-c', 'noimage', '--image-id', 'docker:skydeck-test/not-built-anywhere:1', '-y', '--', 'echo never']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /image_id docker:skydeck-test\/not-built-anywhere:1: image skydeck-test\/not-built-anywhere:1 is not on this machine and could not be pulled/);
    assert.ok(!(await clusters()).some((c) => c.name === 'noimage'), 'no cluster record');
    assert.deepEqual(containersOf('noimage'), [], 'no container');
    assert.ok(!existsSync(path.join(server.dataDir, 'clusters', 'noimage')), 'no sandbox');
  });

  it('an image without bash is refused at provisioning, with nothing left', async () => {
    const run = await runCli(server, ['launch', '-c', 'nobash', '--image-id', `docker:${process.env.SKYDECK_TEST_IMAGE_NO_BASH}`, '-y', '--', 'echo never']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /setup and run need bash in the image/);
    assert.ok(!(await clusters()).some((c) => c.name === 'nobash'));
    assert.deepEqual(containersOf('nobash'), []);
  });
});
