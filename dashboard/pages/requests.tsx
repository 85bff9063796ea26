// Every request of every user, newest first, live: filters, id-prefix search, and cancel for what the
// caller may cancel (the API's ownership rule; the server refuses the rest anyway).
import { useMemo, useState } from 'preact/hooks';
import { REQUEST_STATUSES, isRequestFinished, type RequestSummary } from '../../protocol/model';
import type { MeResponse } from '../../protocol/dashboard';
import { duration, relativeTime, shortId } from '../../client/format';
import { api, errorText } from '../api';
import { Confirm, Link, Status, VirtualList } from '../components';
import { BASE, useClock, useModel } from '../hooks';
import { HISTORY_LIMIT, mayActOn, type RequestsModel } from '../model';

interface Filters {
  scope: 'mine' | 'everyone';
  status: string;
  user: string;
  name: string;
  cluster: string;
  id: string;
}

export function RequestsPage(props: { me: MeResponse; requests: RequestsModel }) {
  const { me, requests } = props;
  useModel(requests);
  const now = useClock();
  const [filters, setFilters] = useState<Filters>(() => ({ scope: 'everyone', status: '', user: '', name: '', cluster: '', id: '', ...readQuery() }));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState<string[] | undefined>();
  const [message, setMessage] = useState('');
  const all = requests.all();
  const options = useMemo(() => {
    const users = new Map<string, string>();
    const names = new Set<string>();
    const clusters = new Set<string>();
    for (const r of all) {
      users.set(r.user.id, r.user.name);
      names.add(r.name);
      if (r.clusterName) clusters.add(r.clusterName);
    }
    return { users: [...users].sort((a, b) => a[1].localeCompare(b[1])), names: [...names].sort(), clusters: [...clusters].sort() };
  }, [requests.version]);
  const shown = useMemo(() => {
    const id = filters.id.trim().toLowerCase();
    return all.filter(
      (r) =>
        (filters.scope === 'everyone' || r.user.id === me.user.id) &&
        (!filters.status || r.status === filters.status) &&
        (!filters.user || r.user.id === filters.user) &&
        (!filters.name || r.name === filters.name) &&
        (!filters.cluster || r.clusterName === filters.cluster) &&
        (!id || r.id.startsWith(id)),
    );
  }, [requests.version, filters]);
  const cancellable = (r: RequestSummary) => !isRequestFinished(r.status) && mayActOn(me, r.user);
  const chosen = shown.filter((r) => selected.has(r.id) && cancellable(r)).map((r) => r.id);

  const set = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    setFilters(next);
    writeQuery(next);
  };
  const cancel = async (ids: string[]) => {
    try {
      const { cancelled } = await api<{ cancelled: string[] }>('POST', '/api/cancel', { requestIds: ids });
      setMessage(`Cancelled ${cancelled.length} request${cancelled.length === 1 ? '' : 's'}.`);
      setSelected(new Set());
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  return (
    <section class="page requests-page" aria-labelledby="requests-title">
      <div class="page-head">
        <h1 id="requests-title">Requests</h1>
        <span class="count" aria-live="polite">
          {shown.length.toLocaleString()} shown{all.length >= HISTORY_LIMIT ? ` (the ${HISTORY_LIMIT.toLocaleString()} most recent finished are loaded)` : ''}
        </span>
      </div>
      <form class="filters" role="search" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
        <fieldset class="scope">
          <legend class="sr-only">Whose requests</legend>
          <label>
            <input type="radio" name="scope" checked={filters.scope === 'mine'} onChange={() => set({ scope: 'mine' })} /> Mine
          </label>
          <label>
            <input type="radio" name="scope" checked={filters.scope === 'everyone'} onChange={() => set({ scope: 'everyone' })} /> Everyone
          </label>
        </fieldset>
        <label>
          Status
          <select value={filters.status} onChange={(e) => set({ status: e.currentTarget.value })}>
            <option value="">any</option>
            {REQUEST_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          User
          <select value={filters.user} onChange={(e) => set({ user: e.currentTarget.value })}>
            <option value="">any</option>
            {options.users.map(([id, name]) => (
              <option value={id}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Name
          <select value={filters.name} onChange={(e) => set({ name: e.currentTarget.value })}>
            <option value="">any</option>
            {options.names.map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          Cluster
          <select value={filters.cluster} onChange={(e) => set({ cluster: e.currentTarget.value })}>
            <option value="">any</option>
            {options.clusters.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Id
          <input type="search" value={filters.id} placeholder="id prefix" spellcheck={false} onInput={(e) => set({ id: e.currentTarget.value })} />
        </label>
        <button type="button" class="danger" disabled={chosen.length === 0} onClick={() => setConfirming(chosen)}>
          Cancel selected ({chosen.length})
        </button>
      </form>
      {message && (
        <p role="status" class="message">
          {message}
        </p>
      )}
      <VirtualList
        label="Requests"
        items={shown}
        header={
          <div class="vrow vhead" role="row">
            <span role="columnheader" class="c-select">
              <span class="sr-only">Select</span>
            </span>
            <span role="columnheader" class="c-status">Status</span>
            <span role="columnheader" class="c-id">Id</span>
            <span role="columnheader" class="c-name">Name</span>
            <span role="columnheader" class="c-cluster">Cluster</span>
            <span role="columnheader" class="c-user">User</span>
            <span role="columnheader" class="c-time">Created</span>
            <span role="columnheader" class="c-dur">Duration</span>
            <span role="columnheader" class="c-act">
              <span class="sr-only">Actions</span>
            </span>
          </div>
        }
        empty={<p class="empty">{requests.loaded ? 'No request matches.' : 'Loading…'}</p>}
        row={(r) => (
          <div class="vrow" role="row" data-request-id={r.id} key={r.id}>
            <span role="cell" class="c-select">
              {cancellable(r) && <input type="checkbox" aria-label={`Select request ${shortId(r.id)}`} checked={selected.has(r.id)} onChange={(e) => toggle(r.id, e.currentTarget.checked)} />}
            </span>
            <span role="cell" class="c-status">
              <Status status={r.status} />
            </span>
            <span role="cell" class="c-id mono">
              <Link href={`${BASE}requests/${r.id}`}>{shortId(r.id)}</Link>
            </span>
            <span role="cell" class="c-name">{r.name}</span>
            <span role="cell" class="c-cluster">{r.clusterName ?? ''}</span>
            <span role="cell" class="c-user">{r.user.name}</span>
            <span role="cell" class="c-time" title={new Date(r.createdAt).toLocaleString()}>
              {relativeTime(r.createdAt, now)}
            </span>
            <span role="cell" class="c-dur">{r.startedAt ? duration((r.finishedAt ?? now) - r.startedAt) : ''}</span>
            <span role="cell" class="c-act">
              {cancellable(r) && (
                <button type="button" class="small" aria-label={`Cancel request ${shortId(r.id)}`} onClick={() => setConfirming([r.id])}>
                  Cancel
                </button>
              )}
            </span>
          </div>
        )}
      />
      {confirming && (
        <Confirm
          title={`Cancel ${confirming.length} request${confirming.length === 1 ? '' : 's'}?`}
          body={<p>{confirming.map((id) => `${shortId(id)} (${requests.get(id)?.name ?? ''})`).join(', ')}: pending ones never start, running ones are stopped with their processes.</p>}
          action="Cancel requests"
          danger
          onConfirm={() => void cancel(confirming)}
          onClose={() => setConfirming(undefined)}
        />
      )}
    </section>
  );
}

const KEYS = ['scope', 'status', 'user', 'name', 'cluster', 'id'] as const;

function readQuery(): Partial<Filters> {
  const q = new URLSearchParams(location.search);
  const out: Partial<Filters> = {};
  for (const k of KEYS) {
    const v = q.get(k);
    if (v !== null) (out as Record<string, string>)[k] = v;
  }
  if (out.scope !== undefined && out.scope !== 'mine') out.scope = 'everyone';
  return out;
}

/** Filters live in the address, so a filtered view can be bookmarked or shared. */
function writeQuery(f: Filters): void {
  const q = new URLSearchParams();
  for (const k of KEYS) if (f[k] && !(k === 'scope' && f[k] === 'everyone')) q.set(k, f[k]);
  history.replaceState(null, '', `${location.pathname}${q.size ? `?${q}` : ''}`);
}
