// Managed jobs on local infra, through the real server and the real CLI: a job runs to its end on a
// cluster of its own, the task's code failing is final unless max_restarts_on_errors says otherwise, the
// infra failing under it (its processes killed from outside) is recovered, cancel works in any state,
// pipelines run task after task, and a server killed with kill -9 picks every job up again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ManagedJobStatus } from '../../protocol/jobs';
import { runCli, taskFiles, type TaskFiles } from '../helpers/cli';
import { disposeJobs, jobsOf, killClusterJob } from '../helpers/managed-jobs';
import { eventually, startServer, type TestServer } from '../helpers/server';

const local = { infra: 'local' };

describe('managed jobs on local infra', () => {
  let server: TestServer;
  let tasks: TaskFiles;
  let jobs: ReturnType<typeof jobsOf>;

  before(async () => {
    server = await startServer({ env: { SKYDECK_JOBS_RETRY_MS: '200' } });
    tasks = taskFiles(server);
    jobs = jobsOf(server);
  });
  after(() => disposeJobs(server));

  it('jobs launch streams the log, exits 0, and the job ends SUCCEEDED with its cluster gone', async () => {
    const file = tasks.write('hello.yaml', 'name: hello\nresources:\n  infra: local\nsetup: echo setting up\nrun: |\n  echo "id $SKYPILOT_TASK_ID"\n  sleep 0.2\n  echo done here\n');
    const run = await runCli(server, ['jobs', 'launch', file, '-y']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /setting up\nid sky-managed-\S+_hello_\d+-0\ndone here/);
    const id = Number(/Managed job (\d+) submitted/.exec(run.stderr)![1]);
    const job = await jobs.job(id);
    assert.equal(job.status, 'SUCCEEDED');
    assert.equal(job.tasks[0]!.recoveryCount, 0);
    assert.ok(job.startedAt! >= job.submittedAt && job.endedAt! >= job.startedAt!);
    assert.ok(!(await jobs.clusters()).includes(job.tasks[0]!.cluster!), 'the cluster is torn down');
    const queue = await runCli(server, ['jobs', 'queue']);
    assert.match(queue.stdout, /^ID\s+TASK\s+NAME\s+REQUESTED\s+SUBMITTED\s+TOT\. DURATION\s+JOB DURATION\s+#RECOVERIES\s+STATUS/m);
    assert.match(queue.stdout, new RegExp(`^${id}\\s+-\\s+hello\\s+1x local\\s.*\\s0\\s+SUCCEEDED`, 'm'));
    const logs = await runCli(server, ['jobs', 'logs', String(id), '--no-follow']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /setting up\nid sky-managed-.*\ndone here/);
    const controller = await runCli(server, ['jobs', 'logs', String(id), '--controller', '--no-follow']);
    assert.match(controller.stdout, /Considered resources:[\s\S]*provisioning sky-jobs-\d+-1 on local[\s\S]*torn down[\s\S]*SUCCEEDED/);
  });

  it("a failure of the task's code is FAILED without recovery, and the CLI exits with its code; setup failing is FAILED_SETUP", async () => {
    const file = tasks.write('fails.yaml', 'name: fails\nresources:\n  infra: local\nrun: echo failing now; exit 7\n');
    const run = await runCli(server, ['jobs', 'launch', file, '-y']);
    assert.equal(run.code, 7, run.stderr);
    assert.match(run.stdout, /failing now/);
    const id = Number(/Managed job (\d+) submitted/.exec(run.stderr)![1]);
    const job = await jobs.job(id);
    assert.equal(job.status, 'FAILED');
    assert.equal(job.tasks[0]!.recoveryCount, 0);
    assert.equal(job.tasks[0]!.exitCode, 7);
    assert.doesNotMatch(jobs.log(id, true), /recovering|restarting/i);

    const setup = await jobs.launch([{ resources: local, setup: 'exit 4', run: 'echo never' }]);
    const failed = await jobs.until(setup, ['FAILED_SETUP', 'FAILED', 'SUCCEEDED']);
    assert.equal(failed.status, 'FAILED_SETUP');
    assert.doesNotMatch(jobs.log(setup), /never/);
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${setup}-`)), []);
  });

  it('max_restarts_on_errors restarts a failing task that many times, then gives up', async () => {
    const counter = path.join(tasks.dir, 'attempts');
    // Fails on its first two runs, succeeds on the third.
    const flaky = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; echo "attempt $n"; [ $n -ge 3 ]`;
    const id = await jobs.launch([{ resources: { infra: 'local', job_recovery: { max_restarts_on_errors: 2 } }, run: flaky }]);
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED']);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.tasks[0]!.restartsOnErrors, 2);
    assert.equal(done.tasks[0]!.recoveryCount, 2);
    assert.match(jobs.log(id), /attempt 1[\s\S]*attempt 2[\s\S]*attempt 3/);

    const always = await jobs.launch([{ resources: { infra: 'local', job_recovery: { strategy: 'FAILOVER', max_restarts_on_errors: 1 } }, run: 'echo trying; exit 3' }]);
    const failed = await jobs.until(always, ['SUCCEEDED', 'FAILED']);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.tasks[0]!.restartsOnErrors, 1);
    assert.equal(jobs.log(always).match(/trying/g)?.length, 2, 'ran once, restarted once');
    assert.match(jobs.log(always, true), /no restart left/);
  });

  it('killing the job from outside is an infra failure: RECOVERING, a new cluster, RUNNING again with the same SKYPILOT_TASK_ID, SUCCEEDED', async () => {
    const id = await jobs.launch([{ resources: local, setup: 'sleep 1', run: 'echo "start $SKYPILOT_TASK_ID"; for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.3; done' }]);
    const running = await jobs.until(id, ['RUNNING']);
    const first = running.tasks[0]!.cluster!;
    await eventually(() => jobs.log(id).includes('tick 2'), 10_000, 'the job to print tick 2');
    killClusterJob(server, first);
    const seen = new Set<ManagedJobStatus>();
    await jobs.until(id, ['RECOVERING'], 10_000, seen);
    const again = await jobs.until(id, ['RUNNING'], 20_000, seen);
    assert.notEqual(again.tasks[0]!.cluster, first, 'recovered onto a new cluster');
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED'], 20_000, seen);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.tasks[0]!.recoveryCount, 1);
    assert.equal(done.tasks[0]!.restartsOnErrors, 0, 'an infra failure is not counted against max_restarts_on_errors');
    const starts = [...jobs.log(id).matchAll(/^start (\S+)$/gm)].map((m) => m[1]);
    assert.equal(starts.length, 2);
    assert.equal(starts[0], starts[1], 'the same SKYPILOT_TASK_ID on both clusters');
    assert.match(jobs.log(id), /recovered \(recovery 1\)[\s\S]*tick 6/);
    assert.match(jobs.log(id, true), /lost its cluster .*killed from outside/);
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], 'both clusters are torn down');
  });

  it('cancel of a RUNNING job stops it and tears its cluster down within a second', async () => {
    const id = await jobs.launch([{ resources: local, run: 'echo up; sleep 60' }]);
    const running = await jobs.until(id, ['RUNNING']);
    const cluster = running.tasks[0]!.cluster!;
    const pid = Number(readFileSync(path.join(server.dataDir, 'clusters', cluster, 'jobs', '1', 'pid'), 'utf8'));
    const startedAt = Date.now();
    const run = await runCli(server, ['jobs', 'cancel', String(id)]);
    assert.equal(run.code, 0, run.stderr);
    const done = await jobs.until(id, ['CANCELLED'], 5000);
    const took = Date.now() - startedAt;
    assert.ok(took < 3000, `cancelled in ${took} ms`);
    assert.equal(done.status, 'CANCELLED');
    assert.throws(() => process.kill(pid, 0), 'the job process is gone');
    assert.ok(!(await jobs.clusters()).includes(cluster), 'the cluster is gone');
    // Cancelling again is not an error: it had already ended.
    const again = await runCli(server, ['jobs', 'cancel', String(id)]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already ended/);
  });

  it('cancel of a RECOVERING job whose new cluster is running setup: CANCELLED within a second, both clusters gone, run never starts again', async () => {
    const runs = path.join(tasks.dir, 'recovering-setup-runs');
    // Setup is instant the first time and holds the recovery (the job stays RECOVERING until setup is done) after.
    const id = await jobs.launch([{ resources: local, setup: `if [ -f ${runs} ]; then echo setting up again; sleep 30; fi`, run: `echo run >> ${runs}; echo up; sleep 60` }]);
    const running = await jobs.until(id, ['RUNNING']);
    const failed = running.tasks[0]!.cluster!;
    await eventually(() => jobs.log(id).includes('up'), 10_000, 'the job to print up');
    killClusterJob(server, failed);
    await jobs.until(id, ['RECOVERING'], 10_000);
    await eventually(() => jobs.log(id).includes('setting up again'), 10_000, 'setup to start on the new cluster');
    const recovering = await jobs.job(id);
    assert.equal(recovering.status, 'RECOVERING', 'setup on the new cluster is still part of the recovery');
    const second = recovering.tasks[0]!.cluster!;
    assert.notEqual(second, failed);

    const startedAt = Date.now();
    await server.waitFor(await server.submit('jobs.cancel', { jobIds: [id] }));
    const done = await jobs.until(id, ['CANCELLED'], 2000);
    const took = Date.now() - startedAt;
    assert.ok(took < 1500, `cancelled in ${took} ms`);
    assert.match(jobs.log(id, true), /cancel requested while RECOVERING[\s\S]*CANCELLED/);
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], 'the failed cluster and the new one are torn down');
    await new Promise((r) => setTimeout(r, 500)); // long enough for a run that was not stopped to print
    assert.equal(readFileSync(runs, 'utf8'), 'run\n', 'run never started again');
    assert.equal(done.tasks[0]!.status, 'CANCELLED');
  });

  it('a pipeline (a multi-document task file) runs its tasks one after the other, each on its own cluster', async () => {
    const file = tasks.write('pipe.yaml', 'name: pipe\n---\nname: first\nresources:\n  infra: local\nrun: echo "first $SKYPILOT_TASK_ID"\n---\nname: second\nresources:\n  infra: local\nrun: echo "second $SKYPILOT_TASK_ID"\n');
    const run = await runCli(server, ['jobs', 'launch', file, '-y']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /first sky-managed-\S+_pipe_\d+-0\n[\s\S]*second sky-managed-\S+_pipe_\d+-1/);
    const id = Number(/Managed job (\d+) submitted/.exec(run.stderr)![1]);
    const job = await jobs.job(id);
    assert.equal(job.name, 'pipe');
    assert.deepEqual(job.tasks.map((t) => [t.name, t.status]), [['first', 'SUCCEEDED'], ['second', 'SUCCEEDED']]);
    assert.notEqual(job.tasks[0]!.cluster, job.tasks[1]!.cluster);
  });

  it('a git workdir is cloned for the job and its files are where run starts', async () => {
    const repo = path.join(tasks.dir, 'repo');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    execFileSync('git', ['init', '--quiet', repo]);
    writeFileSync(path.join(repo, 'file.txt'), 'from the repository\n');
    git('add', 'file.txt');
    git('commit', '--quiet', '-m', 'one');
    const id = await jobs.launch([{ resources: local, workdir: { url: repo }, run: 'cat file.txt' }]);
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER']);
    assert.equal(done.status, 'SUCCEEDED', jobs.log(id, true));
    assert.match(jobs.log(id), /from the repository/);
    assert.match(jobs.log(id, true), /checked out [0-9a-f]{12}/);
  });

  it('a failing task of a pipeline ends the job; the tasks after it are CANCELLED', async () => {
    const id = await jobs.launch([{ resources: local, run: 'exit 5' }, { resources: local, run: 'echo never' }], 'broken-pipe');
    const done = await jobs.until(id, ['FAILED', 'SUCCEEDED']);
    assert.equal(done.status, 'FAILED');
    assert.deepEqual(done.tasks.map((t) => t.status), ['FAILED', 'CANCELLED']);
  });

  it('a server killed with kill -9 while a job is RUNNING picks it up again: it finishes with its log complete', async () => {
    const id = await jobs.launch([{ resources: local, run: 'for i in $(seq 1 12); do echo tick $i; sleep 0.3; done' }]);
    await jobs.until(id, ['RUNNING']);
    await eventually(() => jobs.log(id).includes('tick 2'), 10_000, 'tick 2');
    await server.kill9();
    await new Promise((r) => setTimeout(r, 800)); // the job writes on while no server runs
    server = await server.restart();
    jobs = jobsOf(server);
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER']);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.tasks[0]!.recoveryCount, 0, 'its cluster survived: nothing to recover');
    const ticks = [...jobs.log(id).matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ticks, Array.from({ length: 12 }, (_, i) => i + 1), 'every line once, in order');
    assert.match(jobs.log(id, true), /server restarted; following job/);
  });

  it('a server killed with kill -9 while a job is RECOVERING carries the recovery through', async () => {
    const id = await jobs.launch([{ resources: local, setup: 'sleep 1.5', run: 'echo run $SKYPILOT_TASK_ID; sleep 0.5; echo finished' }]);
    const running = await jobs.until(id, ['RUNNING']);
    killClusterJob(server, running.tasks[0]!.cluster!);
    await jobs.until(id, ['RECOVERING']);
    await server.kill9();
    server = await server.restart();
    jobs = jobsOf(server);
    const done = await jobs.until(id, ['SUCCEEDED', 'FAILED', 'FAILED_CONTROLLER'], 30_000);
    assert.equal(done.status, 'SUCCEEDED');
    // One recovery, for the killed job; a second only when the kill landed while the new cluster's job was
    // being started, which then never ran (the controller says so).
    const recoveries = done.tasks[0]!.recoveryCount;
    assert.ok(recoveries === 1 || (recoveries === 2 && /the API server stopped before the job started/.test(jobs.log(id, true))), jobs.log(id, true));
    assert.match(jobs.log(id), /finished/);
    // The failed cluster too, also when the kill came before its tear-down had finished.
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], jobs.log(id, true));
  });
});

describe('managed jobs waiting for a launch slot', () => {
  let server: TestServer;
  let jobs: ReturnType<typeof jobsOf>;

  before(async () => {
    server = await startServer({ env: { SKYDECK_JOBS_LAUNCH_PARALLELISM: '1' } });
    jobs = jobsOf(server);
  });
  after(() => disposeJobs(server));

  it('cancel of a PENDING job ends it before it ever starts; cancel of a STARTING one stops its setup', async () => {
    const starting = await jobs.launch([{ resources: local, setup: 'sleep 30', run: 'echo never' }]);
    await jobs.until(starting, ['STARTING']);
    const pending = await jobs.launch([{ resources: local, run: 'echo never either' }]);
    const waiting = await jobs.job(pending);
    assert.equal(waiting.status, 'PENDING');
    assert.match(waiting.statusMessage ?? '', /waiting for a launch slot/);
    const cancel = await server.waitFor(await server.submit('jobs.cancel', { jobIds: [pending] }));
    assert.deepEqual(cancel.result, { cancelled: [pending] });
    const cancelled = await jobs.until(pending, ['CANCELLED'], 1000);
    assert.equal(cancelled.tasks[0]!.cluster, undefined, 'it never got a cluster');
    assert.equal(cancelled.startedAt, undefined);

    const startedAt = Date.now();
    await server.waitFor(await server.submit('jobs.cancel', { jobIds: [starting] }));
    await jobs.until(starting, ['CANCELLED'], 3000);
    assert.ok(Date.now() - startedAt < 3000);
    assert.deepEqual(await jobs.clusters(), []);
    assert.doesNotMatch(jobs.log(starting), /never/);
  });

  it('cancel of a RECOVERING job (its failed cluster still held, waiting for a launch slot) is CANCELLING then CANCELLED within a second, leaves no cluster and never runs again', async () => {
    const runs = path.join(taskFiles(server).dir, 'recovering-runs');
    const id = await jobs.launch([{ resources: local, run: `echo run >> ${runs}; echo up; sleep 60` }]);
    const running = await jobs.until(id, ['RUNNING']);
    const failed = running.tasks[0]!.cluster!;
    await eventually(() => jobs.log(id).includes('up'), 10_000, 'the job to print up');
    // Another job takes the only launch slot and keeps it (its setup sleeps): the recovery waits for it.
    const blocker = await jobs.launch([{ resources: local, setup: 'sleep 30', run: 'echo never' }]);
    await jobs.until(blocker, ['STARTING']);
    killClusterJob(server, failed);
    await jobs.until(id, ['RECOVERING'], 10_000);
    await eventually(async () => /waiting for a launch slot/.test((await jobs.job(id)).statusMessage ?? ''), 10_000, 'the recovery to wait for a launch slot');
    assert.ok((await jobs.clusters()).includes(failed), 'the failed cluster is still held while the job recovers');

    const startedAt = Date.now();
    const cancel = await server.waitFor(await server.submit('jobs.cancel', { jobIds: [id] }));
    assert.deepEqual(cancel.result, { cancelled: [id] });
    const done = await jobs.until(id, ['CANCELLED'], 2000);
    const took = Date.now() - startedAt;
    assert.ok(took < 1500, `cancelled in ${took} ms`);
    assert.equal(done.tasks[0]!.status, 'CANCELLED');
    assert.equal(done.tasks[0]!.cluster, failed, 'no new cluster was made for it');
    assert.match(jobs.log(id, true), /cancel requested while RECOVERING[\s\S]*torn down[\s\S]*CANCELLED/);
    assert.deepEqual((await jobs.clusters()).filter((c) => c.startsWith(`sky-jobs-${id}-`)), [], 'the failed cluster is torn down');

    // The slot frees: the cancelled job does not take it, and a job submitted after it runs.
    await server.waitFor(await server.submit('jobs.cancel', { jobIds: [blocker] }));
    const next = await jobs.launch([{ resources: local, run: 'echo next' }]);
    assert.equal((await jobs.until(next, ['SUCCEEDED', 'FAILED'])).status, 'SUCCEEDED');
    assert.equal((await jobs.job(id)).status, 'CANCELLED');
    assert.equal(readFileSync(runs, 'utf8'), 'run\n', 'it ran once, never again');
    assert.deepEqual(await jobs.clusters(), []);
  });
});
