// One request: what it is, its timeline, its body (secrets are stored redacted), its result or error,
// and its live log (shared with the VS Code panel: ANSI colours, follow, search) with a download.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { isRequestFinished, type ApiRequest } from '../../protocol/model';
import type { MeResponse } from '../../protocol/dashboard';
import { duration, shortId } from '../../client/format';
import { LogView } from '../../ui/log-view';
import { requestTimeline } from '../../ui/timeline';
import { api, apiPath, errorText } from '../api';
import { Confirm, DomNode, Link, Status } from '../components';
import { BASE, useModel } from '../hooks';
import type { LiveSession } from '../../client/live-session';
import { mayActOn, type RequestsModel } from '../model';

export function RequestPage(props: { id: string; me: MeResponse; live: LiveSession; requests: RequestsModel }) {
  const { id, me, live, requests } = props;
  useModel(requests);
  const [request, setRequest] = useState<ApiRequest | undefined>();
  const [error, setError] = useState('');
  const [following, setFollowing] = useState(true);
  const [term, setTerm] = useState('');
  const [matches, setMatches] = useState<{ count: number; at: number }>({ count: 0, at: 0 });
  const [logState, setLogState] = useState('streaming');
  const [confirming, setConfirming] = useState(false);
  const log = useMemo(() => new LogView({ id: 'log', label: 'Request log', droppedHint: 'download the log for all of it', onFollowChange: setFollowing }), [id]);
  const summary = request ? (requests.get(request.id) ?? request) : undefined;

  useEffect(() => {
    setRequest(undefined);
    api<ApiRequest>('GET', `/api/requests/${encodeURIComponent(id)}`).then(setRequest, (err) => setError(errorText(err)));
  }, [id]);
  // The full request again when it finishes: its result or error arrives then.
  useEffect(() => {
    if (request && summary && summary.status !== request.status && isRequestFinished(summary.status)) {
      api<ApiRequest>('GET', `/api/requests/${encodeURIComponent(request.id)}`).then(setRequest, () => undefined);
    }
  }, [summary?.status]);
  useEffect(() => {
    if (!request) return;
    setLogState('streaming');
    const following = live.followLog(request.id, {
      onData: (text) => log.append(text),
      onEnd: (status) => setLogState(`ended: ${status}`),
      onError: (message) => setLogState(`error: ${message}`),
    });
    return () => following.dispose();
  }, [request?.id]);
  useEffect(() => {
    const t = setTimeout(() => setMatches({ count: log.search(term), at: log.matchCount > 0 ? 1 : 0 }), 150);
    return () => clearTimeout(t);
  }, [term, log]);
  const timeline = useMemo(() => (summary ? requestTimeline(summary) : undefined), [summary?.status, summary?.startedAt, summary?.finishedAt]);

  if (error) return <section class="page"><h1>Request {id.slice(0, 8)}</h1><p role="alert" class="error">{error}</p></section>;
  if (!request || !summary) return <section class="page"><p>Loading…</p></section>;
  const finished = isRequestFinished(summary.status);
  const canCancel = !finished && mayActOn(me, summary.user);
  const cancel = () => api('POST', '/api/cancel', { requestIds: [summary.id] }).catch((err) => setError(errorText(err)));

  return (
    <section class="page request-page" aria-labelledby="request-title">
      <p class="crumbs">
        <Link href={`${BASE}requests`}>Requests</Link> / {shortId(summary.id)}
      </p>
      <div class="page-head">
        <h1 id="request-title">
          {summary.name} {summary.clusterName && <Link href={`${BASE}clusters#${summary.clusterName}`}>{summary.clusterName}</Link>} <Status status={summary.status} />
        </h1>
        {canCancel && (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Cancel request
          </button>
        )}
      </div>
      <dl class="meta">
        <dt>Request</dt>
        <dd class="mono">{summary.id}</dd>
        <dt>User</dt>
        <dd>
          {summary.user.name} ({summary.user.id})
        </dd>
        <dt>Schedule</dt>
        <dd>{summary.schedule}</dd>
        {summary.startedAt && (
          <>
            <dt>Duration</dt>
            <dd>{duration((summary.finishedAt ?? Date.now()) - summary.startedAt)}</dd>
          </>
        )}
        {summary.statusMessage && (
          <>
            <dt>Status message</dt>
            <dd>{summary.statusMessage}</dd>
          </>
        )}
      </dl>
      {timeline && <DomNode node={timeline} />}
      {request.error && (
        <div class="error-box" role="alert">
          <strong>{request.error.type}</strong>: {request.error.message}
        </div>
      )}
      <details>
        <summary>Body</summary>
        <pre class="json">{JSON.stringify(request.body, null, 2)}</pre>
      </details>
      {request.result !== undefined && (
        <details open>
          <summary>Result</summary>
          <pre class="json">{JSON.stringify(request.result, null, 2)}</pre>
        </details>
      )}
      <h2>Log</h2>
      <div class="toolbar" role="toolbar" aria-label="Log">
        <label>
          <input type="checkbox" id="follow" checked={following} onChange={(e) => log.follow(e.currentTarget.checked)} /> Follow
        </label>
        <label>
          <span class="sr-only">Search the log</span>
          <input type="search" id="search" placeholder="Search the log" value={term} onInput={(e) => setTerm(e.currentTarget.value)} />
        </label>
        <span id="matches" aria-live="polite">
          {term ? `${matches.count} line${matches.count === 1 ? '' : 's'}${matches.count ? ` (${matches.at}/${matches.count})` : ''}` : ''}
        </span>
        <button type="button" class="small" disabled={!matches.count} onClick={() => setMatches({ ...matches, at: log.nextMatch(-1) })} aria-label="Previous match">
          ↑
        </button>
        <button type="button" class="small" disabled={!matches.count} onClick={() => setMatches({ ...matches, at: log.nextMatch(1) })} aria-label="Next match">
          ↓
        </button>
        <a class="button small" href={apiPath(`/api/stream?request_id=${summary.id}&follow=0&format=plain`)} download={`skydeck-${shortId(summary.id)}.log`}>
          Download
        </a>
        <span class="log-state" id="log-state">
          {logState}
        </span>
      </div>
      <DomNode node={log.element} class="log-host" />
      {confirming && (
        <Confirm
          title={`Cancel request ${shortId(summary.id)}?`}
          body={<p>{summary.status === 'PENDING' ? 'It will never start.' : `Its work${summary.clusterName ? ` on ${summary.clusterName}` : ''} is stopped with its whole process tree.`}</p>}
          action="Cancel request"
          danger
          onConfirm={() => void cancel()}
          onClose={() => setConfirming(false)}
        />
      )}
    </section>
  );
}
