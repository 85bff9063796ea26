// start, stop and down. stop and down first cancel every PENDING and RUNNING request on the cluster,
// then its jobs, so nothing is left running on nodes about to go away. A cluster whose infra cannot
// stop or start is refused before anything is cancelled.
import { requireOwner } from '../auth/policy';
import type { Principal } from '../auth/identity';
import { fail } from '../errors';
import { isSupported, type ClusterRecord, type StopStart } from '../infra/backend';
import { lockCluster, type Operation, type OperationContext, type Services } from './context';

type ClusterOperation = 'start' | 'stop' | 'down';

/** Only the cluster's owner or an admin may start, stop or tear it down (and so cancel the work on it). */
const requireOwnCluster =
  (action: string): NonNullable<Operation<ClusterOperation>['preflight']> =>
  (body, services, caller) =>
    requireOwner(caller, services.clusters.require(body.clusterName).owner, action, `cluster ${body.clusterName}`);

/** How the cluster's infra stops and starts it, or a refusal saying why it cannot. */
export function stopStartOf(services: Services, clusterName: string): StopStart<unknown> {
  const cluster = services.clusters.require(clusterName);
  const capability = services.clusters.backendFor(cluster.infra).capabilities.stopStart;
  if (!isSupported(capability)) throw fail.not_supported(`cluster ${cluster.name} is on ${cluster.infra}: ${capability.unsupported}`);
  return capability;
}

/** The owner check, then whether the infra can do it at all: both before the request is accepted. */
const stopStartPreflight =
  (action: string): NonNullable<Operation<'start' | 'stop'>['preflight']> =>
  (body, services, caller: Principal) => {
    requireOwnCluster(action)(body, services, caller);
    stopStartOf(services, body.clusterName);
  };

export const start: Operation<'start'> = {
  preflight: stopStartPreflight('start'),
  run: (ctx) =>
    withCluster(ctx, async (cluster) => {
      const lifecycle = stopStartOf(ctx.services, cluster.name);
      if (cluster.status === 'UP') {
        ctx.log.line(`Cluster ${cluster.name} is already UP.`);
        return;
      }
      ctx.log.line(`Starting cluster ${cluster.name}...`);
      await lifecycle.start(cluster, ctx.log);
      await ctx.services.clusters.save({ ...cluster, status: 'UP', statusMessage: undefined });
      ctx.log.line(`Cluster ${cluster.name} is UP.`);
    }),
};

export const stop: Operation<'stop'> = {
  preflight: stopStartPreflight('stop'),
  run: async (ctx) => {
    // Asked again here: nothing may be cancelled for a stop that cannot happen.
    const lifecycle = stopStartOf(ctx.services, ctx.body.clusterName);
    await cancelClusterWork(ctx);
    return withCluster(ctx, async (cluster) => {
      await lifecycle.stop(cluster, ctx.log);
      await ctx.services.clusters.save({ ...cluster, status: 'STOPPED' });
      ctx.log.line(`Cluster ${cluster.name} is STOPPED.`);
    });
  },
};

export const down: Operation<'down'> = {
  preflight: requireOwnCluster('tear down'),
  run: async (ctx) => {
    await cancelClusterWork(ctx);
    return withCluster(ctx, async (cluster) => {
      ctx.log.line(`Tearing down ${cluster.name} on ${cluster.infra}...`);
      try {
        await ctx.services.clusters.backendFor(cluster.infra).teardown(cluster, ctx.log);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (!ctx.body.purge) throw fail.infra_failed(`tearing down ${cluster.name} failed: ${reason}; the cluster is kept. \`skydeck down ${cluster.name} --purge\` forgets it anyway`);
        // As SkyPilot's --purge: forgotten all the same, and the user is told what to clean up by hand.
        ctx.log.line(`Teardown failed: ${reason}`);
        ctx.log.line(`--purge: forgetting ${cluster.name} anyway. What may be left on ${cluster.infra}: ${leftovers(cluster)}.`);
      }
      await ctx.services.clusters.remove(cluster.name);
      ctx.log.line(`Cluster ${cluster.name} is gone.`);
    });
  },
};

/** What a failed teardown may have left: the cluster's nodes, with the processes and files of its jobs. */
function leftovers(cluster: ClusterRecord): string {
  const nodes = cluster.nodes.map((n) => `node ${n.rank} at ${n.host ?? n.ip}`).join(', ');
  return `${nodes || 'its nodes'} (its jobs' processes and files there)`;
}

async function withCluster(ctx: OperationContext<ClusterOperation>, change: (cluster: ClusterRecord) => Promise<void>): Promise<{ clusterName: string }> {
  const { clusters } = ctx.services;
  const release = await lockCluster(ctx, ctx.body.clusterName);
  try {
    const cluster = clusters.require(ctx.body.clusterName);
    // Checked again when the request runs: the cluster may have been downed and made again by someone else.
    requireOwner(ctx.caller, cluster.owner, `${ctx.request.name}`, `cluster ${cluster.name}`);
    await change(cluster);
    return { clusterName: ctx.body.clusterName };
  } finally {
    release();
  }
}

async function cancelClusterWork(ctx: OperationContext<ClusterOperation>): Promise<void> {
  const name = ctx.body.clusterName;
  const cluster = ctx.services.clusters.get(name);
  if (cluster) requireOwner(ctx.caller, cluster.owner, `${ctx.request.name}`, `cluster ${name}`);
  const { clusters } = ctx.services;
  const cancelled = await ctx.services.cancelRequests((r) => r.clusterName === name && r.id !== ctx.request.id);
  if (cancelled.length > 0) ctx.log.line(`Cancelled ${cancelled.length} request(s) on ${name}: ${cancelled.map((id) => id.slice(0, 8)).join(', ')}`);
  for (const job of clusters.activeJobs(name)) {
    await clusters.cancelJob(name, job.jobId);
    ctx.log.line(`Cancelled job ${job.jobId}.`);
  }
}
