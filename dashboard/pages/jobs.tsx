// Managed jobs (GET /api/jobs; everyone's for an admin): SkyPilot's queue columns, read again every few
// seconds; a job's log (across its recoveries) or its controller's opens as a request page, and Cancel
// stops a job in any state.
import { useState } from 'preact/hooks';
import { isManagedJobFinished, jobDuration, recoveryCount, type ManagedJob, type ManagedJobListResponse } from '../../protocol/jobs';
import type { MeResponse } from '../../protocol/dashboard';
import { duration, relativeTime } from '../../client/format';
import { api, errorText } from '../api';
import { Grid } from '../components';
import { BASE, navigate, usePoll } from '../hooks';

const REFRESH_MS = 3_000;

/** Status colours reuse the request ones: finished well, failed, under way. */
function tone(status: ManagedJob['status']): string {
  if (status === 'SUCCEEDED') return 'status-SUCCEEDED';
  if (status === 'CANCELLED' || status === 'CANCELLING') return 'status-CANCELLED';
  if (status.startsWith('FAILED')) return 'status-FAILED';
  return status === 'PENDING' ? 'status-PENDING' : 'status-RUNNING';
}

export function JobsPage(props: { me: MeResponse }) {
  const admin = props.me.role === 'admin';
  const [tick, setTick] = useState(0);
  const [error, setError] = useState('');
  const { value, error: loadError } = usePoll(() => api<ManagedJobListResponse>('GET', `/api/jobs${admin ? '?all_users=1' : ''}`), REFRESH_MS, [tick]);
  const jobs = value?.jobs ?? [];
  const now = Date.now();
  const openLog = async (job: ManagedJob, controller: boolean) => {
    try {
      const { requestId } = await api<{ requestId: string }>('POST', '/api/v1/jobs.logs', { jobId: job.id, follow: !isManagedJobFinished(job.status), ...(controller ? { controller: true } : {}) });
      navigate(`${BASE}requests/${requestId}`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const cancel = async (job: ManagedJob) => {
    if (!confirm(`Cancel managed job ${job.id}${job.name ? ` (${job.name})` : ''}? Its cluster is torn down.`)) return;
    try {
      await api('POST', '/api/v1/jobs.cancel', { jobIds: [job.id] });
      setTick((t) => t + 1);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="page" aria-labelledby="jobs-title">
      <h1 id="jobs-title">Managed jobs</h1>
      {(error || loadError) && (
        <p role="alert" class="error">
          {error || loadError}
        </p>
      )}
      {!value && !loadError && <p>Loading…</p>}
      {value && jobs.length === 0 && <p class="empty">No managed jobs{admin ? '' : ' of yours'} yet: skydeck jobs launch task.yaml</p>}
      {jobs.length > 0 && (
        <Grid label="Managed jobs" columns={['ID', 'Task', 'Name', ...(admin ? ['User'] : []), 'Requested', 'Submitted', 'Tot. duration', 'Job duration', '#Recoveries', 'Status', 'Details']} hiddenColumn="Actions">
          {jobs.map((j) => (
            <tr data-managed-job={j.id}>
              <td class="mono">{j.id}</td>
              <td>{j.tasks.length > 1 ? `${j.currentTask}/${j.tasks.length} ${j.tasks[j.currentTask]?.name ?? ''}` : '-'}</td>
              <td>{j.name ?? '-'}</td>
              {admin && <td>{j.owner.name}</td>}
              <td class="mono">{j.tasks[j.currentTask]?.resources ?? ''}</td>
              <td>{relativeTime(j.submittedAt, now)}</td>
              <td>{duration((j.endedAt ?? now) - j.submittedAt)}</td>
              <td>{j.startedAt === undefined ? '-' : duration(jobDuration(j, now))}</td>
              <td>{recoveryCount(j)}</td>
              <td>
                <span class={`status ${tone(j.status)}`}>{j.status}</span>
              </td>
              <td>{isManagedJobFinished(j.status) ? (j.failureReason ?? '') : (j.statusMessage ?? j.tasks[j.currentTask]?.cluster ?? '')}</td>
              <td class="actions">
                <button type="button" class="small" onClick={() => void openLog(j, false)}>
                  Log
                </button>
                <button type="button" class="small" onClick={() => void openLog(j, true)}>
                  Controller log
                </button>
                {!isManagedJobFinished(j.status) && (
                  <button type="button" class="small danger" onClick={() => void cancel(j)}>
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Grid>
      )}
    </section>
  );
}
