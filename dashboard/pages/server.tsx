// The server itself: version, commit, uptime, queue depth, workers, request rates (from /metrics, sampled
// every few seconds), and the system's own requests (the status-refresh daemon).
import { useRef } from 'preact/hooks';
import type { HealthResponse } from '../../protocol/api';
import { duration, relativeTime, shortId } from '../../client/format';
import { api, apiPath } from '../api';
import { Grid, Link, Status } from '../components';
import { BASE, useClock, useModel, usePoll } from '../hooks';
import type { RequestsModel } from '../model';

const SYSTEM_USER = 'skydeck-system';

/** `name{labels} value` lines of the Prometheus text format, summed by metric name. */
function parseMetrics(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return sums;
}

async function metrics(): Promise<Map<string, number>> {
  const response = await fetch('/metrics', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

export function ServerPage(props: { requests: RequestsModel }) {
  const { requests } = props;
  useModel(requests);
  const now = useClock(5_000);
  const health = usePoll(() => api<HealthResponse>('GET', '/api/health'), 30_000);
  const sample = usePoll(metrics, 5_000);
  const previous = useRef<{ at: number; created: number; finished: number } | undefined>(undefined);
  const rate = useRef<{ created: number; finished: number } | undefined>(undefined);
  const m = sample.value;
  if (m) {
    const current = { at: Date.now(), created: m.get('skydeck_requests_created_total') ?? 0, finished: m.get('skydeck_requests_finished_total') ?? 0 };
    const p = previous.current;
    if (p && current.at - p.at > 1000 && (current.created !== p.created || current.at - p.at > 4000)) {
      const seconds = (current.at - p.at) / 1000;
      rate.current = { created: (current.created - p.created) / seconds, finished: (current.finished - p.finished) / seconds };
      previous.current = current;
    } else if (!p) previous.current = current;
  }
  const system = requests.all().filter((r) => r.user.name === SYSTEM_USER).slice(0, 20);
  const h = health.value;
  const stat = (label: string, value: string | number | undefined, id?: string) => (
    <div class="stat" id={id}>
      <span class="value">{value ?? '—'}</span>
      <span class="label">{label}</span>
    </div>
  );
  return (
    <section class="page" aria-labelledby="server-title">
      <h1 id="server-title">Server</h1>
      {(health.error || sample.error) && (
        <p role="alert" class="error">
          {health.error ?? sample.error}
        </p>
      )}
      <div class="stats">
        {stat('version', h?.version, 'server-version')}
        {stat('commit', h?.commit)}
        {stat('uptime', h ? duration(now - h.startedAt) : undefined, 'server-uptime')}
        {stat('auth', h?.auth)}
        {stat('queue depth', m?.get('skydeck_queue_depth'), 'queue-depth')}
        {stat('long workers busy', m ? `${m.get('skydeck_long_workers_busy') ?? 0} / ${m.get('skydeck_long_workers') ?? '?'}` : undefined, 'workers')}
        {stat('ongoing requests', m?.get('skydeck_requests'))}
        {stat('finished requests stored', m?.get('skydeck_requests_stored')?.toLocaleString())}
        {stat('submitted per second', rate.current ? rate.current.created.toFixed(2) : undefined)}
        {stat('finished per second', rate.current ? rate.current.finished.toFixed(2) : undefined)}
        {stat('server memory', m?.get('process_resident_memory_bytes') ? `${Math.round(m.get('process_resident_memory_bytes')! / 2 ** 20)} MiB` : undefined)}
      </div>
      <p>
        <a href={apiPath('/metrics')}>Prometheus metrics (/metrics)</a>
      </p>
      <h2>System requests</h2>
      {system.length === 0 ? (
        <p class="empty">None yet.</p>
      ) : (
        <Grid label="System requests" columns={['Id', 'Name', 'Status', 'Created', 'Message']}>
          {system.map((r) => (
            <tr>
              <td class="mono">
                <Link href={`${BASE}requests/${r.id}`}>{shortId(r.id)}</Link>
              </td>
              <td>{r.name}</td>
              <td>
                <Status status={r.status} />
              </td>
              <td>{relativeTime(r.createdAt, now)}</td>
              <td>{r.statusMessage ?? ''}</td>
            </tr>
          ))}
        </Grid>
      )}
    </section>
  );
}
