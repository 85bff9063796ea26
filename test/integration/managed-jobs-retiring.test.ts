// A server killed with kill -9 while a managed job is handing its clusters over leaves no cluster behind
// and runs no task again: the restarted server tears down every cluster the job was done with, and a
// task whose end was reached is not started anew.
//
// The kill lands at a point that is certain, not lucky: the failed cluster's tear-down is held up by its
// lock, which a user's `exec` onto that cluster holds while it clones its git workdir from a remote that
// takes the connection and never answers. Until the test lets the remote go, the job's tear-down of that
// cluster waits, while the rest of the job carries on.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isManagedJobFinished } from '../../protocol/jobs';
import { disposeJobs, jobsOf, killClusterJob } from '../helpers/managed-jobs';
import { eventually, startServer, type TestServer } from '../helpers/server';

/** A git:// remote that accepts every connection and never answers, until `letGo` hangs them all up. */
async function stalledGitRemote() {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `git://127.0.0.1:${port}/stalled.git`,
    get connections() {
      return connections;
    },
    /** Hangs up on every clone: each fails at once ("the remote end hung up"). */
    letGo() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      this.letGo();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const local = { infra: 'local' };

describe('managed jobs: a server killed while a job hands its clusters over', () => {
  let server: TestServer;
  let jobs: ReturnType<typeof jobsOf>;
  let remote: Awaited<ReturnType<typeof stalledGitRemote>>;
  let dir: string;

  before(async () => {
    remote = await stalledGitRemote();
    const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-test-'));
    // The stalled clone's folder is made under TMPDIR; a server killed with kill -9 leaves it there.
    mkdirSync(path.join(home, 'tmp'));
    server = await startServer({ home, env: { SKYDECK_JOBS_RETRY_MS: '200', TMPDIR: path.join(home, 'tmp') } });
    jobs = jobsOf(server);
    dir = path.join(home, 'tasks');
    mkdirSync(dir);
  });
  after(async () => {
    await remote?.close();
    await disposeJobs(server);
  });

  /** Holds the cluster's lock: an exec onto it is cloning from the stalled remote (the lock is taken before the clone). */
  async function holdLock(cluster: string): Promise<void> {
    const before = remote.connections;
    await server.submit('exec', { clusterName: cluster, task: { workdir: { url: remote.url }, run: 'echo never' } });
    await eventually(() => remote.connections > before, 10_000, `the exec onto ${cluster} to be cloning (holding its lock)`);
  }

  /** Launches a job, waits for its first run (which prints `up 1`) and holds that cluster's lock. Returns the job and its first cluster. */
  async function firstRunLocked(task: { run: string; resources?: object }): Promise<{ id: number; first: string }> {
    const id = await jobs.launch([{ resources: local, ...task }]);
    const running = await jobs.until(id, ['RUNNING']);
    const first = running.tasks[0]!.cluster!;
    await eventually(() => jobs.log(id).includes('up 1'), 10_000, 'the first run to print up 1');
    await holdLock(first);
    return { id, first };
  }

  /** As firstRunLocked, then the first run is killed: the job recovers. */
  async function recoveringWhileLocked(run: string): Promise<{ id: number; failed: string }> {
    const { id, first } = await firstRunLocked({ run });
    killClusterJob(server, first);
    return { id, failed: first };
  }

  const runs = (name: string) => path.join(dir, name);
  const runCount = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

  it("killed while the job runs on its new cluster and the failed one's tear-down waits: the restarted server tears the failed cluster down and clears it", async () => {
    const file = runs('runs-new-cluster');
    const letFinish = path.join(dir, 'finish');
    // Each run counts itself; the first waits to be killed, the second until the test lets it finish.
    const { id, failed } = await recoveringWhileLocked(`echo run >> ${file}; echo "up $(wc -l < ${file})"; until [ -f ${letFinish} ]; do sleep 0.1; done; echo finished`);
    const recovered = await eventually(
      async () => {
        const j = await jobs.job(id);
        return j.status === 'RUNNING' && j.tasks[0]!.cluster !== failed ? j : undefined;
      },
      20_000,
      'the job to run on a new cluster',
    );
    await eventually(() => jobs.log(id).includes('up 2'), 10_000, 'the second run to print up 2');
    // The certain point: the new cluster holds the job, the failed one is there still (its lock is held).
    assert.ok((await jobs.clusters()).includes(failed), `${failed} is still there: its tear-down waits for the lock`);
    await server.kill9();
    remote.letGo(); // the killed server's clone (a process of its own) ends
    server = await server.restart();
    jobs = jobsOf(server);

    // Torn down by the restarted server, while the job runs on: nothing else would ever take it down.
    await eventually(async () => !(await jobs.clusters()).includes(failed), 15_000, `${failed} to be torn down after the restart\n${jobs.log(id, true)}`);
    assert.equal((await jobs.job(id)).status, 'RUNNING', jobs.log(id, true));
    assert.ok((await jobs.clusters()).includes(recovered.tasks[0]!.cluster!), 'the cluster the job runs on is kept');
    writeFileSync(letFinish, '');
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER']);
    assert.equal(done.status, 'SUCCEEDED', jobs.log(id, true));
    assert.equal(done.tasks[0]!.recoveryCount, 1, jobs.log(id, true));
    assert.equal(runCount(file), 2, 'ran on the failed cluster and on the new one');
    assert.match(jobs.log(id), /finished/);
    assert.match(jobs.log(id, true), new RegExp(`${failed} is torn down`));
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], jobs.log(id, true));
  });

  for (const { ending, code, status } of [
    { ending: 'succeeded', code: 0, status: 'SUCCEEDED' },
    { ending: 'failed (no restart left)', code: 3, status: 'FAILED' },
  ] as const) {
    it(`killed after the task ${ending} on its new cluster, while the job's end waits for the failed cluster's tear-down: the task is not run again`, async () => {
      const file = runs(`runs-${code}`);
      // The first run waits to be killed; the second, on the new cluster, ends at once.
      const { id, failed } = await recoveringWhileLocked(`echo run >> ${file}; n=$(wc -l < ${file}); echo "up $n"; if [ $n -gt 1 ]; then exit ${code}; fi; sleep 60`);
      const second = await eventually(
        async () => {
          const j = await jobs.job(id);
          return j.tasks[0]!.cluster !== failed ? j.tasks[0]!.cluster : undefined;
        },
        20_000,
        'the job to get a new cluster',
      );
      // The certain point: the task has ended and its cluster is gone; the job's end waits for the failed cluster.
      await eventually(async () => runCount(file) === 2 && !(await jobs.clusters()).includes(second), 20_000, `the second run to end and ${second} to be torn down`);
      assert.ok((await jobs.clusters()).includes(failed), `${failed} is still there: its tear-down waits for the lock`);
      assert.ok(!isManagedJobFinished((await jobs.job(id)).status), 'the job has not ended: it waits for the failed cluster');
      await server.kill9();
      remote.letGo();
      server = await server.restart();
      jobs = jobsOf(server);

      const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER'], 20_000);
      assert.equal(done.status, status, jobs.log(id, true));
      assert.equal(runCount(file), 2, `ran on the failed cluster and on the new one, never again\n${jobs.log(id, true)}`);
      assert.equal(done.tasks[0]!.recoveryCount, 1);
      assert.equal(done.tasks[0]!.exitCode, code);
      assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], jobs.log(id, true));
    });
  }

  it("killed while a restart after the task's code failed waits for the cluster's tear-down: the restart is counted once", async () => {
    const file = runs('runs-restart');
    const failNow = path.join(dir, 'fail-now');
    // The first run fails (exit 3) when the test says, the second succeeds; one restart is allowed.
    const { id, first } = await firstRunLocked({
      resources: { infra: 'local', job_recovery: { max_restarts_on_errors: 1 } },
      run: `echo run >> ${file}; n=$(wc -l < ${file}); echo "up $n"; if [ $n -eq 1 ]; then until [ -f ${failNow} ]; do sleep 0.1; done; exit 3; fi; echo finished`,
    });
    writeFileSync(failNow, '');
    // The certain point: the restart is decided and the failed cluster's tear-down waits for the lock.
    await eventually(() => /restarting it on a new cluster: restart 1 of 1/.test(jobs.log(id, true)), 10_000, 'the restart to be decided');
    // The server goes on with other work meanwhile (another cluster launched), which writes the same state file.
    const bystander = await server.waitFor(await server.submit('launch', { clusterName: 'bystander', task: { resources: local, run: 'true' } }));
    assert.equal(bystander.status, 'SUCCEEDED', JSON.stringify(bystander.error));
    assert.ok((await jobs.clusters()).includes(first), `${first} is still there: its tear-down waits for the lock`);
    await server.kill9();
    remote.letGo();
    server = await server.restart();
    jobs = jobsOf(server);

    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER'], 20_000);
    assert.equal(done.status, 'SUCCEEDED', `the one restart allowed was not used up by the server's restart\n${jobs.log(id, true)}`);
    assert.equal(done.tasks[0]!.restartsOnErrors, 1);
    assert.equal(done.tasks[0]!.recoveryCount, 1);
    assert.equal(runCount(file), 2);
    assert.match(jobs.log(id), /finished/);
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], jobs.log(id, true));
    await server.waitFor(await server.submit('down', { clusterName: 'bystander' }));
  });
});
