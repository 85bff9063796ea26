// A task's files on SSH hosts and Slurm nodes through the real server and CLI: a git workdir
// ({url, ref}, a file:// repository the test makes) cloned by the server and synced to every node, a
// COPY storage mapping of a local folder, and one with a list of sources (each at <path>/<its name>),
// all seen by the job on each of its nodes with the right content.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { disposeWithWork, runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';
import { lab, onHost, slurmConfigYaml, writePools } from './lab';

describe('git workdir and COPY storage mounts on SSH hosts and Slurm nodes', () => {
  let server: TestServer;
  let files: TaskFiles;
  let work: string;
  const commits: Record<string, string> = {};

  before(async () => {
    work = mkdtempSync(join(os.tmpdir(), 'skydeck-taskfiles-'));
    // The repository: v1 (tagged), then v2 on main.
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '--quiet', '--initial-branch=main');
    for (const version of ['v1', 'v2']) {
      writeFileSync(join(repo, 'version.txt'), `${version}\n`);
      git('add', 'version.txt');
      git('commit', '--quiet', '-m', version);
      commits[version] = git('rev-parse', 'HEAD');
      if (version === 'v1') git('tag', 'v1');
    }
    mkdirSync(join(work, 'data', 'sub'), { recursive: true });
    writeFileSync(join(work, 'data', 'sub', 'x.txt'), 'copied folder\n');
    mkdirSync(join(work, 'list', 'train'), { recursive: true });
    writeFileSync(join(work, 'list', 'train', 'a.txt'), 'listed folder\n');
    writeFileSync(join(work, 'list', 'labels.csv'), 'listed file\n');
    const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
    writePools(home);
    writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
    server = await startServer({ home });
    files = taskFiles(server);
  });
  after(async () => {
    await disposeWithWork(server);
    rmSync(work, { recursive: true, force: true });
  });

  // Where the mounts land: under the login's home on a pool host; on the Slurm nodes (this machine),
  // under the test's own folder, so nothing is left in root's home.
  const cases = [
    { infra: 'ssh/lab', cluster: 'tf-ssh', base: () => '~/skydeck-taskfiles', cleanup: () => Promise.all(lab.sshHosts.slice(0, 2).map((h) => onHost(h, 'rm -rf ~/skydeck-taskfiles'))) },
    { infra: 'slurm/debug', cluster: 'tf-slurm', base: () => join(work, 'on-node'), cleanup: async () => undefined },
  ];
  for (const c of cases) {
    it(`on ${c.infra}: the repository at its ref, a COPY folder and a COPY list, on each of 2 nodes`, async (t) => {
      t.after(c.cleanup);
      const base = c.base();
      const task = [
        'num_nodes: 2',
        `resources:\n  infra: ${c.infra}`,
        `workdir:\n  url: file://${join(work, 'repo')}\n  ref: v1`,
        'file_mounts:',
        `  ${base}/dataset:\n    source: ${join(work, 'data')}\n    mode: COPY`,
        `  ${base}/inputs:\n    source: [${join(work, 'list', 'train')}, ${join(work, 'list', 'labels.csv')}]\n    mode: COPY`,
        `run: |\n  echo "version=$(cat version.txt)"\n  echo "folder=$(cat ${base}/dataset/sub/x.txt)"\n  echo "list=$(cat ${base}/inputs/train/a.txt)+$(cat ${base}/inputs/labels.csv)"`,
      ].join('\n');
      const run = await runCli(server, ['launch', files.write(`${c.cluster}.yaml`, task + '\n'), '-c', c.cluster, '-y'], { timeoutMs: 120_000 });
      try {
        const out = run.stdout + run.stderr;
        assert.equal(run.code, 0, out);
        assert.match(out, new RegExp(`Checked out ${commits.v1!.slice(0, 12)}\\.`));
        for (const prefix of ['\\(head, rank=0\\) ', '\\(node-1, rank=1\\) ']) {
          assert.match(out, new RegExp(`^${prefix}version=v1$`, 'm'), out);
          assert.match(out, new RegExp(`^${prefix}folder=copied folder$`, 'm'), out);
          assert.match(out, new RegExp(`^${prefix}list=listed folder\\+listed file$`, 'm'), out);
        }
      } finally {
        await runCli(server, ['down', c.cluster, '-y']);
      }
    });
  }
});
