// Cluster and job commands: status, queue, logs, cancel, stop, start, down, and check for the infra.
import type { OperationBody, OperationName } from '../../../protocol/api';
import type { Cluster, Job, RequestSummary } from '../../../protocol/model';
import type { ApiClient } from '../../api-client';
import { duration, relativeTime, shortId, table } from '../../format';
import { checkClusterName, jobNumber } from '../args';
import { connect } from '../context';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { CliExit, EXIT, note, print, printJson } from '../output';
import { confirm } from '../prompt';

export async function status(names: string[], options: { refresh?: boolean; json?: boolean }): Promise<void> {
  names.forEach(checkClusterName);
  await withClient(async (client) => {
    let clusters: Cluster[];
    if (options.refresh) {
      // A refresh asks every backend for the truth, so it runs as a request on the server.
      const requestId = await client.submit('status', { clusterNames: names.length > 0 ? names : undefined, refresh: true });
      const done = await client.waitForRequest(requestId);
      if (done.status !== 'SUCCEEDED') throw new CliExit(finish(done));
      clusters = (done.result as { clusters: Cluster[] }).clusters;
    } else {
      clusters = await client.clusters();
    }
    if (names.length > 0) clusters = clusters.filter((c) => names.includes(c.name));
    if (options.json) return printJson(clusters);
    const missing = names.filter((n) => !clusters.some((c) => c.name === n));
    if (clusters.length > 0) print(clusterTable(clusters));
    else if (missing.length === 0) print('No existing clusters.');
    if (missing.length > 0) throw new CliExit(EXIT.error, `Error: no cluster named ${missing.join(', ')}`);
  });
}

export function clusterTable(clusters: readonly Cluster[], now = Date.now()): string {
  return table(clusters, [
    { header: 'NAME', value: (c) => c.name },
    { header: 'INFRA', value: (c) => c.infra },
    { header: 'RESOURCES', value: (c) => resourcesText(c) },
    { header: 'NODES', value: (c) => String(c.numNodes) },
    { header: 'STATUS', value: (c) => c.status },
    { header: 'LAUNCHED', value: (c) => relativeTime(c.launchedAt, now) },
    { header: 'AUTOSTOP', value: (c) => (c.autostop === undefined ? '-' : `${c.autostop}m`) },
  ]);
}

function resourcesText(c: Cluster): string {
  const r = c.resources;
  return [r.cpus && `cpus=${r.cpus}`, r.memory && `mem=${r.memory}`, r.accelerators].filter(Boolean).join(' ') || '-';
}

export async function queue(cluster: string, options: { json?: boolean }): Promise<void> {
  checkClusterName(cluster);
  await withClient(async (client) => {
    const jobs = await client.jobs(cluster);
    if (options.json) return printJson(jobs);
    print(jobs.length > 0 ? jobTable(jobs) : `No jobs on cluster ${cluster}.`);
  });
}

export function jobTable(jobs: readonly Job[], now = Date.now()): string {
  return table(jobs, [
    { header: 'ID', value: (j) => String(j.jobId) },
    { header: 'NAME', value: (j) => j.name ?? '-' },
    { header: 'USER', value: (j) => j.owner.name },
    { header: 'SUBMITTED', value: (j) => relativeTime(j.submittedAt, now) },
    { header: 'DURATION', value: (j) => (j.startedAt === undefined ? '-' : duration((j.endedAt ?? now) - j.startedAt)) },
    { header: 'STATUS', value: (j) => j.status },
    { header: 'EXIT', value: (j) => (j.exitCode === undefined ? '-' : String(j.exitCode)) },
  ]);
}

export async function logs(cluster: string, job: string | undefined, options: { follow: boolean; tail?: number }): Promise<void> {
  checkClusterName(cluster);
  const jobId = job === undefined ? undefined : jobNumber(job);
  await submitAndFollow('job_logs', { clusterName: cluster, jobId, follow: options.follow, tail: options.tail });
}

export async function cancelJobs(cluster: string, jobs: string[], options: { all?: boolean }): Promise<void> {
  checkClusterName(cluster);
  if (jobs.length === 0 && !options.all) throw new CliExit(EXIT.usage, 'Error: name the jobs to cancel, or pass --all');
  if (jobs.length > 0 && options.all) throw new CliExit(EXIT.usage, 'Error: give job ids or --all, not both');
  await submitAndFollow('cancel_jobs', options.all ? { clusterName: cluster, all: true } : { clusterName: cluster, jobIds: jobs.map(jobNumber) });
}

const LIFECYCLE = {
  stop: { verb: 'Stopping', confirmFirst: true },
  start: { verb: 'Starting', confirmFirst: false },
  down: { verb: 'Tearing down', confirmFirst: true },
} as const;

/** stop, start and down, one cluster after the other; stop and down ask first, naming the requests they will cancel. */
export async function lifecycle(operation: keyof typeof LIFECYCLE, clusters: string[], options: { yes?: boolean }): Promise<void> {
  clusters.forEach(checkClusterName);
  const words = LIFECYCLE[operation];
  const context = await connect();
  try {
    if (words.confirmFirst && !options.yes) {
      const ongoing = (await context.client.listRequests()).filter((r) => r.clusterName !== undefined && clusters.includes(r.clusterName));
      print(`${words.verb} cluster${clusters.length === 1 ? '' : 's'}: ${clusters.join(', ')}.`);
      if (ongoing.length > 0) print(`This first cancels ${ongoing.length} ongoing request${ongoing.length === 1 ? '' : 's'} on ${clusters.length === 1 ? 'it' : 'them'}: ${ongoing.map(describe).join(', ')}.`);
      if (!(await confirm('Proceed?'))) throw new CliExit(EXIT.error, 'Aborted; nothing was changed.');
    }
    for (const clusterName of clusters) {
      const code = await follow(context.client, operation, { clusterName });
      if (code !== EXIT.ok) {
        process.exitCode = code;
        return;
      }
    }
  } finally {
    context.client.close();
  }
}

function describe(r: RequestSummary): string {
  return `${shortId(r.id)} (${r.name}, ${r.status})`;
}

export async function check(options: { json?: boolean }): Promise<void> {
  await withClient(async (client) => {
    const infra = await client.infra();
    if (options.json) return printJson(infra);
    print(
      table(infra, [
        { header: 'INFRA', value: (i) => i.infra },
        { header: 'ENABLED', value: (i) => (i.enabled ? 'yes' : 'no') },
        { header: 'REASON', value: (i) => i.reason ?? '' },
      ]),
    );
    const enabled = infra.filter((i) => i.enabled).map((i) => i.infra);
    note(enabled.length > 0 ? `Enabled infra: ${enabled.join(', ')}` : 'No infra is enabled.');
  });
}

// The request log says what happened (the server writes it); the CLI adds only the exit code.
async function submitAndFollow<N extends OperationName>(operation: N, body: OperationBody<N>): Promise<void> {
  await withClient(async (client) => {
    process.exitCode = await follow(client, operation, body);
  });
}

async function follow<N extends OperationName>(client: ApiClient, operation: N, body: OperationBody<N>): Promise<number> {
  const id = await client.submit(operation, body);
  return finish((await followRequest(client, { id, name: operation }))!);
}

async function withClient(action: (client: ApiClient) => Promise<void>): Promise<void> {
  const { client } = await connect();
  try {
    await action(client);
  } finally {
    client.close();
  }
}

