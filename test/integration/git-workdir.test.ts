// A git workdir ({url, ref}) cloned by the server and synced like a folder, and file_mounts storage
// mappings with a local source and mode COPY copied, through the real CLI and server on local infra.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../protocol/model';
import { disposeWithWork, runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { versionRepo } from '../helpers/git-repo';
import { startServer, type TestServer } from '../helpers/server';

describe('git workdir and COPY storage mounts', () => {
  let server: TestServer;
  let files: TaskFiles;
  let repo: string;
  const commits: Record<string, string> = {};
  const cli = (...args: string[]) => runCli(server, args);
  const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;

  before(async () => {
    server = await startServer();
    files = taskFiles(server);
    // A repository with main (v1 tagged, then v2) and a branch `feature` (v3).
    repo = path.join(server.home, 'repo');
    Object.assign(commits, versionRepo(repo, [['v1'], ['v2'], ['v3', 'feature']]));
  });
  after(() => disposeWithWork(server));

  for (const [ref, version] of [['v1', 'v1'], ['feature', 'v3'], [undefined, 'v2'], ['commit', 'v2']] as const) {
    it(`clones the repository at ${ref ?? 'its default branch'} and runs in it`, async () => {
      const refLine = ref === undefined ? '' : `  ref: ${ref === 'commit' ? commits.v2 : ref}\n`;
      const file = files.write(`git-${ref ?? 'default'}.yaml`, `workdir:\n  url: file://${repo}\n${refLine}run: cat version.txt; git rev-parse HEAD\n`);
      const run = await cli('launch', file, '-c', `git-${ref ?? 'default'}`, '-y');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^${version}$`, 'm'));
      assert.match(run.stdout, new RegExp(`^${commits[version]}$`, 'm'));
      assert.match(run.stdout, new RegExp(`Checked out ${commits[version]!.slice(0, 12)}\\.`));
    });
  }

  it('takes a repository path relative to the task file', async () => {
    const file = files.write('git-relative.yaml', `workdir:\n  url: ./${path.relative(files.dir, repo)}\n  ref: v1\nrun: cat version.txt\n`);
    const run = await cli('launch', file, '-c', 'git-rel', '-y');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^v1$/m);
  });

  it('a ref the repository lacks, or a URL that cannot be cloned, fails before the cluster is created', async () => {
    const missing = files.write('git-missing.yaml', `workdir:\n  url: file://${repo}\n  ref: nope\nrun: echo never\n`);
    const run = await cli('launch', missing, '-c', 'git-missing', '-y');
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, new RegExp(`workdir: file://${repo} has no branch, tag or commit 'nope'`));
    const gone = files.write('git-gone.yaml', `workdir:\n  url: file://${repo}-gone\nrun: echo never\n`);
    const failed = await cli('launch', gone, '-c', 'git-gone', '-y');
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout + failed.stderr, /workdir: cannot clone file:\/\/.*-gone: /);
    const helper = files.write('git-helper.yaml', `workdir:\n  url: "ext::sh -c touch% /tmp/pwned"\nrun: echo never\n`);
    const refused = await cli('launch', helper, '-c', 'git-helper', '-y');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /workdir\.url: ext::sh .* names a git remote helper/);
    const names = (await clusters()).map((c) => c.name);
    for (const name of ['git-missing', 'git-gone', 'git-helper']) assert.ok(!names.includes(name), `${name} was created`);
  });

  it('copies a COPY storage mapping of a local folder to the mount path', async () => {
    const data = path.join(server.home, 'data');
    mkdirSync(path.join(data, 'sub'), { recursive: true });
    writeFileSync(path.join(data, 'sub', 'x.txt'), 'copied data\n');
    const file = files.write('copy.yaml', `file_mounts:\n  ~/dataset:\n    name: ignored-bucket-name\n    source: ${data}\n    mode: COPY\nrun: cat ../mounts/dataset/sub/x.txt\n`);
    const run = await cli('launch', file, '-c', 'copy', '-y');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^copied data$/m);
  });

  it('copies each source of a COPY list to <mount path>/<its name>; a list SkyPilot refuses is refused at its key', async () => {
    const train = path.join(server.home, 'list', 'train');
    mkdirSync(path.join(train, 'sub'), { recursive: true });
    writeFileSync(path.join(train, 'sub', 'a.txt'), 'train data\n');
    writeFileSync(path.join(server.home, 'list', 'labels.csv'), 'id,label\n');
    const file = files.write('copy-list.yaml', `file_mounts:\n  ~/inputs:\n    source: [./list/train, ./list/labels.csv]\n    mode: COPY\nrun: cat ../mounts/inputs/train/sub/a.txt ../mounts/inputs/labels.csv\n`.replace(/\.\/list/g, path.relative(files.dir, path.join(server.home, 'list'))));
    const run = await cli('launch', file, '-c', 'copy-list', '-y');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^train data$/m);
    assert.match(run.stdout, /^id,label$/m);

    const clash = files.write('copy-clash.yaml', `file_mounts:\n  ~/inputs:\n    source: [${train}, ${path.join(server.home, 'data')}/../list/train]\n    mode: COPY\nrun: echo never\n`);
    const refused = await cli('launch', clash, '-c', 'copy-clash', '-y');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /file_mounts\.~\/inputs\.source: sources .*train and .*train would both land at ~\/inputs\/train/);
    const cloud = files.write('copy-cloud.yaml', `file_mounts:\n  ~/inputs:\n    source: [${train}, s3://bucket/x]\n    mode: COPY\nrun: echo never\n`);
    const noCloud = await cli('launch', cloud, '-c', 'copy-cloud', '-y');
    assert.notEqual(noCloud.code, 0);
    assert.match(noCloud.stderr, /file_mounts\.~\/inputs: cloud storage \(s3:\/\/bucket\/x\) is not reachable from SkyDeck's infra/);
    const names = (await clusters()).map((c) => c.name);
    for (const name of ['copy-clash', 'copy-cloud']) assert.ok(!names.includes(name), `${name} was created`);
  });
});
