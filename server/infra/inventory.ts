// The infra inventory GET /api/infra answers: every backend's check, with each node's clusters filled
// in from the cluster list, where the backend itself cannot tell (local clusters share the machine).
import type { InfraStatus } from '../../protocol/infra';
import type { Cluster } from '../../protocol/model';
import type { InfraBackends } from './registry';

export async function infraInventory(backends: InfraBackends, clusters: readonly Cluster[]): Promise<InfraStatus[]> {
  return withClusters(await backends.check(), clusters);
}

/** Adds to each node the clusters of its infra that list it (by host name) among their nodes. */
export function withClusters(statuses: InfraStatus[], clusters: readonly Cluster[]): InfraStatus[] {
  return statuses.map((status) => {
    if (!status.nodes) return status;
    const onInfra = clusters.filter((c) => c.infra === status.infra);
    const nodes = status.nodes.map((node) => {
      const listed = onInfra.filter((c) => c.nodes.some((n) => n.host === node.name)).map((c) => c.name);
      const all = [...new Set([...node.clusters, ...listed])].sort();
      return { ...node, clusters: all };
    });
    return { ...status, nodes };
  });
}
