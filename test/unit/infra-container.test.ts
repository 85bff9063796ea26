// What `image_id: docker:IMAGE` names, the registry login from SKYPILOT_DOCKER_* envs, the image check
// on an existing cluster, and where file mounts land in a container. (Running containers is the docker
// suite's: test/docker/.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkyDeckError } from '../../server/errors';
import { containerName, containerPath, runtimeProblem } from '../../server/infra/container/docker';
import { imageMismatch, parseContainerImage, qualifiedImage, registryLogin } from '../../server/infra/container/image';

describe('container images', () => {
  it('docker:IMAGE names the image; a name that is no image reference is a problem naming it', () => {
    assert.deepEqual(parseContainerImage('docker:ubuntu:22.04'), { image: 'ubuntu:22.04' });
    assert.deepEqual(parseContainerImage('docker:nvcr.io/nvidia/pytorch:23.10-py3'), { image: 'nvcr.io/nvidia/pytorch:23.10-py3' });
    assert.deepEqual(parseContainerImage('docker:localhost:5000/team/img@sha256:' + 'a'.repeat(64)), { image: `localhost:5000/team/img@sha256:${'a'.repeat(64)}` });
    assert.match((parseContainerImage('docker:') as { problem: string }).problem, /expected docker:IMAGE/);
    assert.match((parseContainerImage("docker:x'; rm -rf /") as { problem: string }).problem, /is not a Docker image reference/);
  });

  it('the registry login needs all three SKYPILOT_DOCKER_* envs, and says which are missing', () => {
    assert.equal(registryLogin({ OTHER: 'x' }), undefined);
    assert.deepEqual(registryLogin({ SKYPILOT_DOCKER_USERNAME: 'AWS', SKYPILOT_DOCKER_PASSWORD: 'pw', SKYPILOT_DOCKER_SERVER: 'r.example' }), { username: 'AWS', password: 'pw', server: 'r.example' });
    assert.throws(
      () => registryLogin({ SKYPILOT_DOCKER_USERNAME: 'AWS', SKYPILOT_DOCKER_PASSWORD: null }),
      (err: unknown) => err instanceof SkyDeckError && err.code === 'task_invalid' && /missing SKYPILOT_DOCKER_PASSWORD, SKYPILOT_DOCKER_SERVER/.test(err.message),
    );
  });

  it("a private image's shorthand is prefixed with the login's server, as SkyPilot does", () => {
    const login = { username: 'u', password: 'p', server: 'https://registry.example:5000/' };
    assert.equal(qualifiedImage('team/img:1', login), 'registry.example:5000/team/img:1');
    assert.equal(qualifiedImage('registry.example:5000/team/img:1', login), 'registry.example:5000/team/img:1');
    assert.equal(qualifiedImage('ubuntu', undefined), 'ubuntu');
  });

  it('an existing cluster keeps its image: another one is refused, none asked runs in it', () => {
    const inImage = { name: 'dev', resources: { imageId: 'docker:a:1' } };
    assert.equal(imageMismatch(inImage, undefined), undefined);
    assert.equal(imageMismatch(inImage, 'docker:a:1'), undefined);
    assert.match(imageMismatch(inImage, 'docker:b:2')!, /cluster dev runs in a container of docker:a:1; the task asks for image_id docker:b:2/);
    assert.match(imageMismatch({ name: 'dev', resources: {} }, 'docker:b:2')!, /runs on its nodes, without a container/);
  });

  it('file mounts land where the task says in the container: ~/ and relative paths under its home', () => {
    assert.equal(containerPath('/data/x', '/root'), '/data/x');
    assert.equal(containerPath('~/inputs/a.txt', '/root'), '/root/inputs/a.txt');
    assert.equal(containerPath('inputs', '/home/u'), '/home/u/inputs');
  });

  it('container names differ per node folder and are valid Docker names', () => {
    const a = containerName('dev', 'sdklab@10.0.0.1:22:/home/sdklab/.skydeck/clusters/dev/node-0');
    const b = containerName('dev', 'sdklab@10.0.0.2:22:/home/sdklab/.skydeck/clusters/dev/node-0');
    assert.notEqual(a, b);
    assert.match(a, /^skydeck-dev-[0-9a-f]{8}$/);
  });

  it('a node without docker, or whose docker reaches no engine, has no container runtime, named', async () => {
    const node = (code: number, stderr: string) => ({ where: 'host h1', run: async () => ({ code, stdout: '', stderr }) });
    assert.equal(await runtimeProblem(node(0, '')), undefined);
    assert.equal(await runtimeProblem(node(127, 'bash: docker: command not found')), 'no container runtime on host h1 (no docker command)');
    assert.equal(await runtimeProblem(node(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.')), 'no container runtime on host h1 (docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.)');
  });
});
