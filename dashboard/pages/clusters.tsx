// Every cluster, live: status, infra, resources, nodes, owner, launched, autostop; each one's jobs with
// their logs; stop, start and down for the owner (or an admin), confirmed with what will be cancelled;
// stop and start only where the infra can (not SSH node pools or Slurm: `canStop`).
import { useEffect, useState } from 'preact/hooks';
import { isJobFinished, isRequestFinished, type Cluster, type Job } from '../../protocol/model';
import type { MeResponse } from '../../protocol/dashboard';
import { duration, relativeTime, shortId } from '../../client/format';
import { api, errorText } from '../api';
import { Confirm, Grid, Link, Status } from '../components';
import { BASE, navigate, useClock, useModel } from '../hooks';
import { mayActOn, type ClustersModel, type RequestsModel } from '../model';

type Action = 'stop' | 'start' | 'down';

export function ClustersPage(props: { me: MeResponse; clusters: ClustersModel; requests: RequestsModel }) {
  const { me, clusters, requests } = props;
  useModel(clusters);
  useModel(requests);
  const now = useClock();
  const [confirming, setConfirming] = useState<{ cluster: Cluster; action: Action } | undefined>();
  const [message, setMessage] = useState('');
  const list = [...clusters.clusters].sort((a, b) => a.name.localeCompare(b.name));
  const ongoing = (name: string) => requests.all().filter((r) => r.clusterName === name && !isRequestFinished(r.status));
  const runningJobs = (name: string) => [...(clusters.jobs.get(name)?.values() ?? [])].filter((j) => !isJobFinished(j.status));

  const act = async (cluster: Cluster, action: Action) => {
    try {
      const { requestId } = await api<{ requestId: string }>('POST', `/api/v1/${action}`, { clusterName: cluster.name });
      setMessage(`Submitted ${action} of ${cluster.name}: request ${shortId(requestId)}.`);
    } catch (err) {
      setMessage(errorText(err));
    }
  };

  return (
    <section class="page" aria-labelledby="clusters-title">
      <div class="page-head">
        <h1 id="clusters-title">Clusters</h1>
        <span class="count">{list.length} cluster{list.length === 1 ? '' : 's'}</span>
      </div>
      {message && (
        <p role="status" class="message">
          {message}
        </p>
      )}
      {list.length === 0 && <p class="empty">No clusters. Launch a task to create one.</p>}
      <div class="cards">
        {list.map((c) => (
          <article class="card" id={c.name} aria-labelledby={`cluster-${c.name}`} data-cluster={c.name}>
            <h2 id={`cluster-${c.name}`}>
              {c.name} <Status status={c.status} />
            </h2>
            <dl class="meta">
              <dt>Infra</dt>
              <dd>{c.infra}</dd>
              <dt>Resources</dt>
              <dd>{[c.resources.cpus && `${c.resources.cpus} CPUs`, c.resources.memory && `${c.resources.memory} GiB`, c.resources.accelerators].filter(Boolean).join(', ') || '—'}</dd>
              <dt>Nodes</dt>
              <dd>
                {c.numNodes}
                {c.nodes.length > 0 && `: ${c.nodes.map((n) => n.host ?? n.ip).join(', ')}`}
              </dd>
              <dt>Endpoints</dt>
              <dd class="mono">{c.nodes.map((n) => n.ip).join(', ') || '—'}</dd>
              <dt>Owner</dt>
              <dd>{c.owner.name}</dd>
              <dt>Launched</dt>
              <dd title={new Date(c.launchedAt).toLocaleString()}>{relativeTime(c.launchedAt, now)}</dd>
              <dt>Autostop</dt>
              <dd>{c.autostop !== undefined ? `after ${c.autostop} idle minute${c.autostop === 1 ? '' : 's'}` : 'off'}</dd>
              {c.statusMessage && (
                <>
                  <dt>Status</dt>
                  <dd>{c.statusMessage}</dd>
                </>
              )}
            </dl>
            {mayActOn(me, c.owner) && (
              <div class="toolbar">
                {c.status === 'UP' && c.canStop !== false && (
                  <button type="button" onClick={() => setConfirming({ cluster: c, action: 'stop' })}>
                    Stop
                  </button>
                )}
                {c.status === 'STOPPED' && c.canStop !== false && (
                  <button type="button" onClick={() => void act(c, 'start')}>
                    Start
                  </button>
                )}
                <button type="button" class="danger" onClick={() => setConfirming({ cluster: c, action: 'down' })}>
                  Tear down
                </button>
              </div>
            )}
            <Jobs cluster={c} clusters={clusters} now={now} />
          </article>
        ))}
      </div>
      {confirming && (
        <Confirm
          title={`${confirming.action === 'down' ? 'Tear down' : 'Stop'} ${confirming.cluster.name}?`}
          body={<WillCancel requests={ongoing(confirming.cluster.name).map((r) => `${shortId(r.id)} (${r.name}, ${r.user.name})`)} jobs={runningJobs(confirming.cluster.name).map((j) => `job ${j.jobId}${j.name ? ` (${j.name})` : ''}`)} action={confirming.action} />}
          action={confirming.action === 'down' ? 'Tear down' : 'Stop'}
          danger
          onConfirm={() => void act(confirming.cluster, confirming.action)}
          onClose={() => setConfirming(undefined)}
        />
      )}
    </section>
  );
}

function WillCancel(props: { requests: string[]; jobs: string[]; action: Action }) {
  const { requests, jobs } = props;
  return (
    <>
      <p>{props.action === 'down' ? 'The cluster and everything on it are removed.' : 'The cluster stops; start it again later.'}</p>
      {requests.length === 0 && jobs.length === 0 ? (
        <p>No pending or running request or job will be cancelled.</p>
      ) : (
        <>
          <p>These will be cancelled first:</p>
          <ul class="will-cancel">
            {requests.map((r) => (
              <li>request {r}</li>
            ))}
            {jobs.map((j) => (
              <li>{j}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function Jobs(props: { cluster: Cluster; clusters: ClustersModel; now: number }) {
  const { cluster, clusters, now } = props;
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ jobs: Job[] }>('GET', `/api/clusters/${encodeURIComponent(cluster.name)}/jobs`).then(
      ({ jobs }) => clusters.addJobs(cluster.name, jobs),
      (err) => setError(errorText(err)),
    );
  }, [cluster.name]);
  const jobs = [...(clusters.jobs.get(cluster.name)?.values() ?? [])].sort((a, b) => b.jobId - a.jobId);
  const openLog = async (job: Job) => {
    try {
      const { requestId } = await api<{ requestId: string }>('POST', '/api/v1/job_logs', { clusterName: cluster.name, jobId: job.jobId, follow: !isJobFinished(job.status) });
      navigate(`${BASE}requests/${requestId}`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  if (error) return <p class="error">{error}</p>;
  if (jobs.length === 0) return <p class="empty">No jobs yet.</p>;
  return (
    <details open={jobs.some((j) => !isJobFinished(j.status))}>
      <summary>
        Jobs ({jobs.length})
      </summary>
      <Grid label={`Jobs on ${cluster.name}`} columns={['Id', 'Name', 'Status', 'Owner', 'Submitted', 'Duration']} hiddenColumn="Log">
        {jobs.slice(0, 50).map((j) => (
          <tr data-job={j.jobId}>
            <td>{j.jobId}</td>
            <td>{j.name ?? ''}</td>
            <td>
              <Status status={j.status} />
              {j.exitCode !== undefined && j.exitCode !== 0 ? ` (exit ${j.exitCode})` : ''}
            </td>
            <td>{j.owner.name}</td>
            <td>{relativeTime(j.submittedAt, now)}</td>
            <td>{j.startedAt ? duration((j.endedAt ?? now) - j.startedAt) : ''}</td>
            <td>
              <button type="button" class="small" aria-label={`Log of job ${j.jobId} on ${cluster.name}`} onClick={() => void openLog(j)}>
                Log
              </button>
              {j.requestId && (
                <>
                  {' '}
                  <Link href={`${BASE}requests/${j.requestId}`}>request</Link>
                </>
              )}
            </td>
          </tr>
        ))}
      </Grid>
    </details>
  );
}
