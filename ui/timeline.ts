// A request's timeline (created, started, finished) as an ordered list; the panels and the dashboard
// style `.timeline li.done` / `li.now` in their own theme.
import { isRequestFinished, type RequestSummary } from '../protocol/model';
import { el } from './dom';

export function requestTimeline(r: RequestSummary, timeOf: (at: number) => string = (at) => new Date(at).toLocaleTimeString()): HTMLElement {
  const finished = isRequestFinished(r.status);
  const step = (name: string, at: number | undefined, state: 'done' | 'now' | '') =>
    el('li', state ? { class: state } : {}, name, el('span', { class: 'when' }, at ? timeOf(at) : '—'));
  return el(
    'ol',
    { class: 'timeline', 'aria-label': 'timeline' },
    step('Created', r.createdAt, 'done'),
    step('Started', r.startedAt, r.startedAt ? (finished ? 'done' : 'now') : ''),
    step(finished ? r.status[0] + r.status.slice(1).toLowerCase() : 'Finished', r.finishedAt, finished ? 'done' : ''),
  );
}
