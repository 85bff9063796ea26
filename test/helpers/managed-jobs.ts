// Managed jobs through the real server, for the managed-jobs test files: the job list, waits on a job's
// status, its logs as the server wrote them, and the infra failing under a job's cluster.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ManagedJob, ManagedJobStatus } from '../../protocol/jobs';
import { disposeWithWork } from './cli';
import { eventually, type TestServer } from './server';

/** Cancels every managed job (their clusters would otherwise be recovered), then the usual clean-up. */
export async function disposeJobs(server: TestServer | undefined): Promise<void> {
  if (!server) return;
  try {
    await server.waitFor(await server.submit('jobs.cancel', { all: true, allUsers: true }));
  } finally {
    await disposeWithWork(server);
  }
}

export function jobsOf(server: TestServer) {
  const list = async () => (await server.json<{ jobs: ManagedJob[] }>('/api/jobs?all_users=1')).body.jobs;
  const job = async (id: number) => (await list()).find((j) => j.id === id)!;
  return {
    list,
    job,
    /** Submits a job through the API (the CLI's own path is tested apart); resolves with its id. */
    async launch(tasks: unknown[], name?: string): Promise<number> {
      const done = await server.waitFor(await server.submit('jobs.launch', { tasks, ...(name ? { name } : {}) }));
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
      return (done.result as { jobId: number }).jobId;
    },
    /** Polls until the job is in one of `statuses`; returns it. Every status seen on the way is added to `seen`. */
    async until(id: number, statuses: ManagedJobStatus[], timeoutMs = 30_000, seen?: Set<ManagedJobStatus>): Promise<ManagedJob> {
      return eventually(
        async () => {
          const j = await job(id);
          seen?.add(j.status);
          return statuses.includes(j.status) ? j : undefined;
        },
        timeoutMs,
        `managed job ${id} to be ${statuses.join(' or ')}`,
      );
    },
    /** The job's log (or its controller's) as the server wrote it; empty until something was written. */
    log: (id: number, controller = false) => {
      try {
        return readFileSync(path.join(server.dataDir, 'managed-jobs', String(id), controller ? 'controller.log' : 'job.log'), 'utf8');
      } catch {
        return '';
      }
    },
    clusters: async () => (await server.json<{ clusters: { name: string }[] }>('/api/clusters')).body.clusters.map((c) => c.name),
  };
}

/** Kills the job's whole process group on its local cluster, as a node going away would. */
export function killClusterJob(server: TestServer, cluster: string): void {
  const pid = Number(readFileSync(path.join(server.dataDir, 'clusters', cluster, 'jobs', '1', 'pid'), 'utf8'));
  process.kill(-pid, 'SIGKILL');
}
