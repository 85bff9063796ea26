// What `skydeck check` says, refreshed every few seconds: each infra enabled or not and why, and which
// cluster holds which node (SSH pool hosts, Slurm nodes) from the live cluster list.
import type { InfraListResponse } from '../../protocol/api';
import { api } from '../api';
import { Status } from '../components';
import { usePoll, useModel } from '../hooks';
import type { ClustersModel } from '../model';

export function InfraPage(props: { clusters: ClustersModel }) {
  const { clusters } = props;
  useModel(clusters);
  const { value, error } = usePoll(() => api<InfraListResponse>('GET', '/api/infra'), 5_000);
  const nodes = clusters.clusters.flatMap((c) => c.nodes.map((n) => ({ cluster: c, node: n })));
  return (
    <section class="page" aria-labelledby="infra-title">
      <h1 id="infra-title">Infra</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="grid" aria-label="Infra">
          <thead>
            <tr>
              <th scope="col">Infra</th>
              <th scope="col">Enabled</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {(value?.infra ?? []).map((i) => (
              <tr data-infra={i.infra}>
                <td class="mono">{i.infra}</td>
                <td>{i.enabled ? <span class="status status-SUCCEEDED">enabled</span> : <span class="status status-FAILED">disabled</span>}</td>
                <td>{i.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Nodes in use</h2>
      {nodes.length === 0 ? (
        <p class="empty">No cluster holds a node.</p>
      ) : (
        <div class="table-wrap">
          <table class="grid" aria-label="Nodes in use">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Address</th>
                <th scope="col">Infra</th>
                <th scope="col">Cluster</th>
                <th scope="col">Rank</th>
                <th scope="col">Cluster status</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map(({ cluster, node }) => (
                <tr>
                  <td class="mono">{node.host ?? ''}</td>
                  <td class="mono">{node.ip}</td>
                  <td class="mono">{cluster.infra}</td>
                  <td>{cluster.name}</td>
                  <td>{node.rank}</td>
                  <td>
                    <Status status={cluster.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
