// `image_id: docker:IMAGE` on an SSH node pool of the infra lab, through the real CLI and server: each
// host runs the task in its own container of the image (started with the host's docker CLI, which
// test/docker/with-lab.sh points at this run's engine), with the workdir and file mounts inside and the
// SKYPILOT_* variables of its rank; cancel ends the processes inside; down removes the containers; a
// login that cannot reach any engine is a refusal naming the host. Run through test/docker/run.sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { disposeWithWork, runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';
import { lab, writePools } from '../infra/lab';

const IMAGE = process.env.SKYDECK_TEST_IMAGE;
const skip = !IMAGE || !process.env.DOCKER_HOST || !process.env.SKYDECK_LAB_SSH_HOSTS ? 'needs the engine, the image and the lab: run through test/docker/run.sh' : false;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

function containersOf(cluster: string): string[] {
  return docker('ps', '-a', '--filter', `label=skydeck.cluster=${cluster}`, '--format', '{{.Names}}').split('\n').filter(Boolean).sort();
}

describe('image_id docker:IMAGE on SSH hosts', { skip }, () => {
  let server: TestServer;
  let tasks: TaskFiles;

  before(async () => {
    server = await startServer();
    tasks = taskFiles(server);
    // `nodocker` logs in as root, whose docker CLI reaches no engine (no context, no default socket).
    const [h1] = lab.sshHosts;
    writePools(server.home, lab.sshHosts.slice(0, 2), ['nodocker:', '  user: root', `  identity_file: ${lab.sshKey}`, '  hosts:', `    - ${h1}`, ''].join('\n'));
  });
  after(() => disposeWithWork(server));

  it('runs setup and run in a container of the image on each host, with workdir, mounts and ranks; cancel ends it inside; down removes the containers', async () => {
    const workdir = path.join(server.home, 'code');
    mkdirSync(workdir);
    writeFileSync(path.join(workdir, 'train.py'), 'the workdir file\n');
    writeFileSync(path.join(server.home, 'input.txt'), 'mounted data\n');
    const file = tasks.write(
      'ssh-image.yaml',
      [
        `workdir: ${workdir}`,
        'num_nodes: 2',
        'file_mounts:',
        `  ~/inputs/input.txt: ${path.join(server.home, 'input.txt')}`,
        'resources:',
        '  infra: ssh/lab',
        `  image_id: docker:${IMAGE}`,
        'setup: . /etc/os-release; echo "setup in $ID"',
        'run: |',
        '  . /etc/os-release',
        '  echo "rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES in $ID: $(cat train.py), $(cat ~/inputs/input.txt)"',
        '',
      ].join('\n'),
    );
    const run = await runCli(server, ['launch', file, '-c', 'sshimg', '-y'], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\(head, rank=0\) setup in skydeck-test/);
    assert.match(run.stdout, /\(head, rank=0\) rank 0 of 2 in skydeck-test: the workdir file, mounted data/);
    assert.match(run.stdout, /\(node-1, rank=1\) rank 1 of 2 in skydeck-test: the workdir file, mounted data/);
    const containers = containersOf('sshimg');
    assert.equal(containers.length, 2, `one container per host: ${containers.join(', ')}`);

    const marker = `ssh-sleeper-${process.pid}`;
    const exec = await runCli(server, ['exec', '-c', 'sshimg', '-d', '--num-nodes', '2', '--', `bash -c 'sleep 300; : ${marker}'`]);
    assert.equal(exec.code, 0, exec.stderr);
    const running = () => containers.filter((c) => docker('top', c).includes(marker)).length;
    await eventually(() => running() === 2, 20_000, 'the job to run in both containers');
    const cancel = await runCli(server, ['cancel', 'sshimg', '2']);
    assert.equal(cancel.code, 0, cancel.stderr);
    await eventually(() => running() === 0, 15_000, 'the processes in the containers to end');

    const shell = await runCli(server, ['ssh', 'sshimg', '--node', '1', '--', '. /etc/os-release; echo "shell in $ID at $(pwd) rank $SKYPILOT_NODE_RANK"']);
    assert.equal(shell.code, 0, shell.stdout + shell.stderr);
    assert.match(shell.stdout, /shell in skydeck-test at \/.*\/clusters\/sshimg\/node-1\/workdir rank 1/);

    const down = await runCli(server, ['down', 'sshimg', '-y']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(containersOf('sshimg'), [], 'down removes the containers');
  });

  it('a host whose login reaches no container runtime is refused at image_id, naming the host', async () => {
    const run = await runCli(server, ['launch', '-c', 'nodock', '--infra', 'ssh/nodocker', '--image-id', `docker:${IMAGE}`, '--dryrun', '--', 'echo never']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`ssh/nodocker: image_id docker:${IMAGE}: no container runtime on host ${lab.sshHosts[0]!.replace(/\./g, '\\.')} \\(docker: .+\\)`));
  });
});
