// What `skydeck check` says, refreshed every few seconds: each infra enabled or not and why, and which
// cluster holds which node (SSH pool hosts, Slurm nodes) from the live cluster list.
import type { InfraListResponse } from '../../protocol/api';
import { api } from '../api';
import { Grid, Status } from '../components';
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
      <Grid label="Infra" columns={['Infra', 'Enabled', 'Why']}>
        {(value?.infra ?? []).map((i) => (
          <tr data-infra={i.infra}>
            <td class="mono">{i.infra}</td>
            <td>{i.enabled ? <span class="status status-SUCCEEDED">enabled</span> : <span class="status status-FAILED">disabled</span>}</td>
            <td>{i.reason ?? ''}</td>
          </tr>
        ))}
      </Grid>
      <h2>Nodes in use</h2>
      {nodes.length === 0 ? (
        <p class="empty">No cluster holds a node.</p>
      ) : (
        <Grid label="Nodes in use" columns={['Host', 'Address', 'Infra', 'Cluster', 'Rank', 'Cluster status']}>
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
        </Grid>
      )}
    </section>
  );
}
