// What a job leaves on SSH and Slurm nodes (issue 9): its files readable by the job's user alone
// (umask 077, the owner's modes kept), no env file holding the task's secrets once the job is under
// way or over, and a job whose handle a kill -9 kept from the store found again by a restarted server.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ApiRequest } from '../../protocol/model';
import { startServer, type TestServer } from '../helpers/server';
import { lab, onHost, pgrepOn, slurmConfigYaml, waitFor, writePools } from './lab';

async function serverOnLab(): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-hygiene-'));
  writePools(home);
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), 'commands'));
  return startServer({ home });
}

const logOf = async (server: TestServer, id: string) => (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
const jobsOf = async (server: TestServer, cluster: string) => (await server.json<{ jobs: { jobId: number; status: string; exitCode?: number }[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs;

async function finished(server: TestServer, id: string, seconds = 90): Promise<ApiRequest> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const request = await server.waitFor(id, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(request.status) || Date.now() > deadline) return request;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function down(server: TestServer, clusterName: string): Promise<void> {
  const done = await finished(server, await server.submit('down', { clusterName }), 60);
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
}

/** The job's files as `find` sees them on the first lab host (the lab's hosts share one file system). */
async function nodeFiles(cluster: string): Promise<{ path: string; mode: number; content?: string }[]> {
  const r = await onHost(lab.sshHosts[0]!, `cd ~/.skydeck && find . \\( -path './clusters/${cluster}*' -o -path . -o -path ./clusters \\) -printf '%m %y %p\\n'`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const [mode, , p] = l.split(' ');
    return { path: p!, mode: Number.parseInt(mode!, 8) };
  });
}

async function nodeFilesHolding(cluster: string, needle: string): Promise<string> {
  const r = await onHost(lab.sshHosts[0]!, `grep -rl ${needle} ~/.skydeck/clusters/${cluster} ~/skd-hygiene-* 2>/dev/null; true`);
  return r.stdout.trim();
}

function localFiles(dir: string): { path: string; mode: number }[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[]).map((e) => {
    const p = join(e.parentPath, e.name);
    return { path: p, mode: statSync(p).mode & 0o777 };
  });
}

function localFilesHolding(dir: string, needle: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => readFileSync(f, 'utf8').includes(needle));
}

/** A workdir with a plain file, a private file and an executable, as a user's project has. */
function project(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'skydeck-hygiene-project-'));
  writeFileSync(join(dir, 'readme.txt'), 'hello\n');
  chmodSync(join(dir, 'readme.txt'), 0o644);
  writeFileSync(join(dir, 'tool.sh'), '#!/bin/bash\necho tool-ran\n');
  chmodSync(join(dir, 'tool.sh'), 0o755);
  mkdirSync(join(dir, 'sub'));
  chmodSync(join(dir, 'sub'), 0o755);
  writeFileSync(join(dir, 'sub', 'data.txt'), 'data\n');
  return dir;
}

/** state.json as a kill -9 right after the job's start leaves it: the job without its handle. */
function forgetHandle(dataDir: string, cluster: string): void {
  const file = join(dataDir, 'state.json');
  const state = JSON.parse(readFileSync(file, 'utf8')) as { jobs: Record<string, { handle?: unknown }[]> };
  for (const job of state.jobs[cluster] ?? []) delete job.handle;
  writeFileSync(file, JSON.stringify(state));
}

describe('hygiene of SSH nodes and Slurm job dirs', () => {
  it('ssh: job dirs, workdir, mounts and logs are the job user\'s alone, modes kept, and the env files go once the job runs', async () => {
    const server = await serverOnLab();
    const workdir = project();
    const secret = `sekrit-${Date.now()}`;
    const mount = `skd-hygiene-${process.pid}`;
    // The lab user's home outlives the lab: nothing an earlier run left may pass for this run's work.
    await onHost(lab.sshHosts[0]!, 'rm -rf ~/.skydeck/clusters/hyg-ssh');
    try {
      const id = await server.submit('launch', {
        clusterName: 'hyg-ssh',
        task: {
          num_nodes: 2,
          resources: { infra: 'ssh/lab' },
          workdir,
          file_mounts: { [`~/${mount}/tool.sh`]: join(workdir, 'tool.sh') },
          secrets: { TOKEN: secret },
          setup: 'echo setup-done',
          run: `./tool.sh; ~/${mount}/tool.sh; echo "token ${'$'}{#TOKEN}"; echo started; sleep 3; echo ending`,
        },
      });
      await waitFor('the job to run on both nodes', async () => (await logOf(server, id)).split('\n').filter((l) => l.endsWith(' started')).length === 2, 60_000);
      assert.equal(await nodeFilesHolding('hyg-ssh', secret), '', 'no file on the nodes holds the secret while the job runs');
      const done = await finished(server, id);
      const log = await logOf(server, id);
      assert.equal(done.status, 'SUCCEEDED', log);
      assert.equal(log.split('\n').filter((l) => l.endsWith(' tool-ran')).length, 4, `the workdir's and the mount's executables ran on both nodes:\n${log}`);
      const files = await nodeFiles('hyg-ssh');
      assert.ok(files.some((f) => f.path.endsWith('/out.log')), JSON.stringify(files));
      const open = files.filter((f) => (f.mode & 0o077) !== 0);
      assert.deepEqual(open, [], 'nothing under ~/.skydeck is group- or world-accessible');
      const tool = files.find((f) => f.path.endsWith('node-0/workdir/tool.sh'));
      assert.equal(tool?.mode, 0o700, "the executable keeps its owner's bits");
      const mounted = await onHost(lab.sshHosts[0]!, `stat -c %a ~/${mount}/tool.sh ~/${mount}`);
      assert.deepEqual(mounted.stdout.trim().split('\n'), ['700', '700'], 'the mounted file and its folder are the user\'s alone');
      assert.equal(await nodeFilesHolding('hyg-ssh', secret), '', 'no file on the nodes holds the secret after the job');
    } finally {
      await down(server, 'hyg-ssh').catch(() => undefined);
      await onHost(lab.sshHosts[0]!, `rm -rf ~/${mount}`);
      rmSync(workdir, { recursive: true, force: true });
      await server.dispose();
    }
  });

  it('slurm: the job dir is the server user\'s alone and the env files go when the job ends', async () => {
    const server = await serverOnLab();
    const secret = `sekrit-${Date.now()}`;
    try {
      const id = await server.submit('launch', { clusterName: 'hyg-slurm', task: { resources: { infra: 'slurm' }, secrets: { TOKEN: secret }, run: 'echo "token ${#TOKEN}"' } });
      const done = await finished(server, id);
      assert.equal(done.status, 'SUCCEEDED', await logOf(server, id));
      const shared = join(server.home, 'slurm-shared');
      await waitFor('no file holding the secret', () => localFilesHolding(shared, secret).length === 0 || undefined, 10_000).catch(() => {
        throw new Error(`files still holding the secret: ${localFilesHolding(shared, secret).join(', ')}`);
      });
      assert.deepEqual(localFiles(shared).filter((f) => (f.mode & 0o077) !== 0), [], 'nothing in the shared dir is group- or world-accessible');
      await down(server, 'hyg-slurm');
    } finally {
      await server.dispose();
    }
  });

  for (const infra of ['ssh/lab', 'slurm']) {
    const kind = infra.split('/')[0]!;
    it(`${kind}: a job whose handle never reached the store (kill -9 just after its start) is found again, followed to its end, and down stops one still running`, async () => {
      let server = await serverOnLab();
      const marker = `hyg-recover-${kind}-${process.pid}`;
      try {
        const short = await server.submit('launch', { clusterName: `rec-${kind}`, task: { resources: { infra }, run: 'for i in $(seq 1 30); do echo "tick $i"; sleep 0.1; done' } });
        await waitFor('job output', async () => /tick 2\n/.test(await logOf(server, short)), 60_000);
        await server.kill9();
        forgetHandle(server.dataDir, `rec-${kind}`);
        server = await startServer({ home: server.home });
        const done = await finished(server, short);
        const log = await logOf(server, short);
        assert.equal(done.status, 'SUCCEEDED', `${JSON.stringify(done.error)}\n${server.output()}`);
        for (let i = 1; i <= 30; i++) assert.ok(log.includes(`tick ${i}\n`), `tick ${i} missing:\n${log}`);
        assert.deepEqual((await jobsOf(server, `rec-${kind}`)).map((j) => j.status), ['SUCCEEDED']);

        const long = await server.submit('exec', { clusterName: `rec-${kind}`, task: { run: `echo up; exec -a ${marker} sleep 600` } });
        await waitFor('the long job', async () => (await logOf(server, long)).includes('up') && (await pgrepOn(lab.sshHosts[0]!, marker)).length > 0, 60_000);
        await server.kill9();
        forgetHandle(server.dataDir, `rec-${kind}`);
        server = await startServer({ home: server.home });
        assert.equal((await jobsOf(server, `rec-${kind}`)).find((j) => j.jobId === 2)?.status, 'RUNNING', 'tracked again, not FAILED');
        await down(server, `rec-${kind}`);
        await waitFor('the job process to be stopped', async () => (await pgrepOn(lab.sshHosts[0]!, marker)).length === 0 || undefined, 20_000);
      } finally {
        for (const ip of lab.sshHosts) await onHost(ip, `pkill -KILL -f '[${marker[0]}]${marker.slice(1)}' || true`);
        await server.dispose();
      }
    });
  }
});
