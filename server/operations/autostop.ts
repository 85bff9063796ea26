// autostop: sets or clears when an idle cluster stops itself (or, with down, tears itself down), as
// `sky autostop` does. The refresh daemon carries it out.
import { requireOwner } from '../auth/policy';
import { fail } from '../errors';
import { isSupported } from '../infra/backend';
import { lockCluster, type Operation } from './context';

/** SkyPilot's default when only --down is given. */
const DEFAULT_IDLE_MINUTES = 5;

export const autostop: Operation<'autostop'> = {
  preflight(body, services, caller) {
    const cluster = services.clusters.require(body.clusterName);
    requireOwner(caller, cluster.owner, 'set autostop on', `cluster ${body.clusterName}`);
    // A cluster that cannot be stopped can still be set to tear itself down.
    const stopStart = services.clusters.backendFor(cluster.infra).capabilities.stopStart;
    if (!body.cancel && !body.down && !isSupported(stopStart)) {
      throw fail.not_supported(`cluster ${cluster.name} is on ${cluster.infra}, which cannot stop and start clusters (${stopStart.unsupported}); use --down to tear it down when idle instead`);
    }
  },
  async run(ctx) {
    const { clusters } = ctx.services;
    const release = await lockCluster(ctx, ctx.body.clusterName);
    try {
      const cluster = clusters.require(ctx.body.clusterName);
      if (ctx.body.cancel) {
        await clusters.save({ ...cluster, autostop: undefined, autostopDown: undefined });
        ctx.log.line(`Autostop of ${cluster.name} cancelled.`);
        return { clusterName: cluster.name };
      }
      const idle = ctx.body.idleMinutes ?? cluster.autostop ?? DEFAULT_IDLE_MINUTES;
      await clusters.save({ ...cluster, autostop: idle, autostopDown: ctx.body.down === true });
      ctx.log.line(`Cluster ${cluster.name} will ${ctx.body.down ? 'be torn down' : 'stop'} after ${idle} idle minute${idle === 1 ? '' : 's'}.`);
      return { clusterName: cluster.name, idleMinutes: idle, down: ctx.body.down === true };
    } finally {
      release();
    }
  },
};
