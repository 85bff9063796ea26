// Where a launch runs: the reuse rule (an existing cluster past INIT is reused as it is) and, for a
// new cluster, the optimizer's placement. POST /api/plan shows it; the launch operation follows it.
import type { Cluster } from '../../protocol/model';
import type { Task } from '../../protocol/task';
import type { ClusterService } from '../clusters/cluster-service';
import type { ClusterRecord } from '../infra/backend';
import { choosePlacement, planFromTask, type PlacementChoice } from '../infra/optimizer';
import type { InfraBackends } from '../infra/registry';

/** The cluster a launch on `name` reuses, if any: one still in INIT was never provisioned and is placed anew. */
export function reusableCluster(clusters: ClusterService, name: string | undefined): ClusterRecord | undefined {
  const existing = name === undefined ? undefined : clusters.get(name);
  return existing && existing.status !== 'INIT' ? existing : undefined;
}

export type LaunchPlan = { reuse: ClusterRecord } | { place: PlacementChoice };

export async function planLaunch(clusters: ClusterService, backends: InfraBackends, task: Task, clusterName: string | undefined): Promise<LaunchPlan> {
  const reuse = reusableCluster(clusters, clusterName);
  return reuse ? { reuse } : { place: await choosePlacement(backends, planFromTask(task), otherClusters(clusters, clusterName)) };
}

/** Every cluster but the one being launched (an INIT record of it holds nothing yet). */
export function otherClusters(clusters: ClusterService, name: string | undefined): Cluster[] {
  return clusters.list().filter((c) => c.name !== name);
}
