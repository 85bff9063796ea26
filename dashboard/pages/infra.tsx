// What `skydeck check` and `skydeck gpus list` say (GET /api/infra, protocol/infra.ts), kept live: each
// infra enabled or not and why (and how to turn it on), its nodes as last seen (SSH pool hosts and the
// cluster holding each, Slurm partitions' nodes with their states, the local machine) and the
// accelerators on them. Read again every few seconds and at once when a cluster changes, so which
// cluster holds which node follows launches and tear-downs.
import { acceleratorOffers, type InfraNode, type InfraListResponse, type InfraStatus } from '../../protocol/infra';
import { api } from '../api';
import { Grid, Link } from '../components';
import { BASE, usePoll, useModel } from '../hooks';
import type { ClustersModel } from '../model';

const REFRESH_MS = 5_000;

export function InfraPage(props: { clusters: ClustersModel }) {
  const { clusters } = props;
  useModel(clusters);
  // A change to any cluster (launched, torn down, its nodes) reads the inventory again at once.
  const clustersKey = clusters.clusters.map((c) => `${c.name}:${c.status}:${c.nodes.length}`).join(',');
  const { value, error } = usePoll(() => api<InfraListResponse>('GET', '/api/infra'), REFRESH_MS, [clustersKey]);
  const infra = value?.infra ?? [];
  const offers = acceleratorOffers(infra);
  return (
    <section class="page" aria-labelledby="infra-title">
      <h1 id="infra-title">Infra</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!value && !error && <p>Loading…</p>}
      <Grid label="Infra" columns={['Infra', 'Enabled', 'Nodes', 'Why']}>
        {infra.map((i) => (
          <tr data-infra={i.infra}>
            <td class="mono">
              {i.nodes ? <a href={`#infra-${anchor(i.infra)}`}>{i.infra}</a> : i.infra}
            </td>
            <td>{i.enabled ? <span class="status status-SUCCEEDED">enabled</span> : <span class="status status-FAILED">disabled</span>}</td>
            <td>{i.nodes ? `${i.nodes.filter((n) => n.usable).length} of ${i.nodes.length} usable` : ''}</td>
            <td>
              {i.reason ?? ''}
              {i.hint && <div class="muted">{i.hint}</div>}
            </td>
          </tr>
        ))}
      </Grid>
      <h2>Accelerators</h2>
      {offers.length === 0 ? (
        <p class="empty">No enabled infra has accelerators.</p>
      ) : (
        <Grid label="Accelerators" columns={['Accelerator', 'Infra', 'Per node', 'Nodes usable', 'Total']}>
          {offers.map((o) => (
            <tr data-accelerator={`${o.name}@${o.infra}`}>
              <td class="mono">{o.name}</td>
              <td class="mono">{o.infra}</td>
              <td>{o.perNode.join(', ')}</td>
              <td>
                {o.usableNodes} of {o.nodes}
              </td>
              <td>{o.total}</td>
            </tr>
          ))}
        </Grid>
      )}
      {infra.filter((i) => i.nodes).map((i) => (
        <InfraNodes status={i} />
      ))}
    </section>
  );
}

function InfraNodes(props: { status: InfraStatus }) {
  const { status } = props;
  const nodes = status.nodes ?? [];
  const slurm = status.infra.startsWith('slurm/');
  const title = slurm ? `Partition ${status.infra.slice('slurm/'.length)}` : status.infra.startsWith('ssh/') ? `Pool ${status.infra.slice('ssh/'.length)}` : 'This machine';
  const id = `infra-${anchor(status.infra)}`;
  return (
    <section aria-labelledby={id} data-infra-nodes={status.infra}>
      <h2 id={id}>
        {title} <span class="muted mono">{status.infra}</span>
      </h2>
      {nodes.length === 0 ? (
        <p class="empty">No nodes.</p>
      ) : (
        <Grid label={`Nodes of ${status.infra}`} columns={['Node', slurm ? 'GRES' : 'Address', 'State', 'CPUs', 'Memory', 'Disk free', 'Accelerators', slurm ? 'Clusters' : 'Held by']}>
          {nodes.map((n) => (
            <tr data-node={n.name}>
              <td class="mono">{n.name}</td>
              <td class="mono">{slurm ? (n.gres ?? '') : (n.address ?? '')}</td>
              <td>
                <NodeState node={n} />
              </td>
              <td>{n.cpus ?? ''}</td>
              <td>{n.memoryGiB === undefined ? '' : `${round(n.memoryGiB)} GiB`}</td>
              <td>{n.diskFreeGB === undefined ? '' : `${round(n.diskFreeGB)} GB`}</td>
              <td class="mono">{n.accelerators ? `${n.accelerators.name}:${n.accelerators.count}` : ''}</td>
              <td>
                {n.clusters.length === 0 ? (
                  <span class="muted">free</span>
                ) : (
                  n.clusters.map((c, k) => (
                    <>
                      {k > 0 && ', '}
                      <Link href={`${BASE}clusters#${c}`}>{c}</Link>
                    </>
                  ))
                )}
              </td>
            </tr>
          ))}
        </Grid>
      )}
    </section>
  );
}

/** The node's state as its infra says it, coloured by whether work can start there now. */
function NodeState(props: { node: InfraNode }) {
  const { node } = props;
  const tone = node.usable ? 'status-SUCCEEDED' : node.error || /down|drain|fail|unreachable/i.test(node.state) ? 'status-FAILED' : 'status-PENDING';
  return (
    <>
      <span class={`status ${tone}`} title={node.usable ? 'can take work now' : 'cannot take new work now'}>
        {node.state}
      </span>
      {node.error && <div class="muted">{node.error}</div>}
    </>
  );
}

const anchor = (infra: string) => infra.replace(/[^a-z0-9-]/gi, '-');
const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);
