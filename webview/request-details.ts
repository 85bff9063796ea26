// The Request details panel: metadata, a status timeline, the live log with ANSI colours, follow and
// search, and Cancel. The log view and the timeline are shared with the dashboard (ui/). The request's id,
// the search and the reader's place in the log are kept in the webview state (protocol/webview-state.ts),
// so they come back when VS Code reloads the page after its tab was hidden, and the panel comes back after
// a window reload; the request and its log come again from the extension.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { isRequestFinished, type RequestSummary } from '../protocol/model';
import { LogView } from '../ui/log-view';
import { requestTimeline } from '../ui/timeline';
import { el, onMessage, post, saveState, savedState } from './host';
import { requestDetailsState } from '../protocol/webview-state';

/** Starts the page of request `requestId` (the extension writes it into the page). */
export function startRequestDetails(root: HTMLElement, requestId: string): void {
  let request: RequestSummary | undefined;
  const restored = requestDetailsState(savedState());
  // Where the reader was, scrolled to once the log has come again that far; dropped when they move on.
  let restoreTop = restored.topLine;

  const title = el('h1', {}, `Request ${requestId}`);
  const meta = el('dl', { class: 'meta' });
  const timeline = el('div');
  const follow = el('vscode-checkbox', { id: 'follow', ...(restored.following ? { checked: '' } : {}) }, 'Follow') as HTMLElement & { checked: boolean };
  const search = el('vscode-textfield', { id: 'search', placeholder: 'Search the log' }) as HTMLElement & { value: string };
  const matches = el('span', { id: 'matches' });
  const cancel = el('vscode-button', { id: 'cancel', secondary: '' }, 'Cancel Request');
  const openChannel = el('vscode-button', { id: 'open-channel', secondary: '' }, 'Open in Output');
  // Scrolling up to read stops following; scrolling back to the bottom resumes it.
  const log = new LogView({
    id: 'log',
    label: 'request log',
    droppedHint: 'open it in the Output panel for all of it',
    onFollowChange: (on) => {
      follow.checked = on;
      persist();
    },
  });
  const persist = () => saveState({ requestId, search: search.value ?? '', following: log.isFollowing, topLine: log.isFollowing ? undefined : (restoreTop ?? log.topLine) });
  const showMatches = () => {
    const term = search.value ?? '';
    const count = log.matchCount;
    matches.textContent = term ? `${count} match${count === 1 ? '' : 'es'}` : '';
  };
  search.value = restored.search;
  if (restored.search) log.search(restored.search);
  if (!restored.following) log.follow(false);
  root.replaceChildren(title, meta, el('h2', {}, 'Timeline'), timeline, el('h2', {}, 'Log'), el('div', { class: 'toolbar' }, follow, search, matches, cancel, openChannel), log.element);
  // From the start, so that a window reload brings the panel back even if nothing was changed on it.
  persist();

  follow.addEventListener('change', () => {
    restoreTop = undefined;
    log.follow(follow.checked);
    persist();
  });
  let scrollTimer: ReturnType<typeof setTimeout> | undefined;
  log.element.addEventListener('scroll', () => {
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(persist, 200);
  });
  cancel.addEventListener('click', () => request && post({ type: 'cancel-request', requestId: request.id }));
  openChannel.addEventListener('click', () => request && post({ type: 'open-log-channel', requestId: request.id }));
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      restoreTop = undefined;
      log.search(search.value ?? '');
      showMatches();
      persist();
    }, 150);
  });

  onMessage((message) => {
    switch (message.type) {
      case 'request-init':
        log.clear();
        renderRequest(message.request);
        break;
      case 'request-updated':
        renderRequest(message.request);
        break;
      case 'request-unknown':
        request = undefined;
        title.replaceChildren(`Request ${message.requestId}`);
        meta.replaceChildren(el('dt', {}, 'Not found'), el('dd', { id: 'unknown', role: 'status' }, 'The API server has no such request: it expired, or this panel is from another server. Nothing more will show here.'));
        timeline.replaceChildren();
        cancel.setAttribute('disabled', '');
        openChannel.setAttribute('disabled', '');
        break;
      case 'log':
        log.append(message.data);
        if (restoreTop !== undefined && log.scrollToLine(restoreTop)) restoreTop = undefined;
        if (search.value) showMatches();
        break;
      case 'log-end':
        if (restoreTop !== undefined) log.scrollToLine(restoreTop);
        restoreTop = undefined;
        log.element.setAttribute('data-ended', message.status);
        break;
    }
  });

  function renderRequest(r: RequestSummary): void {
    request = r;
    title.replaceChildren(`${r.name}${r.clusterName ? ` ${r.clusterName}` : ''} `, el('span', { class: `status ${r.status}`, id: 'status' }, r.status));
    const rows: [string, string | undefined][] = [
      ['Request', r.id],
      ['User', `${r.user.name} (${r.user.id})`],
      ['Cluster', r.clusterName],
      ['Schedule', r.schedule],
      ['Status message', r.statusMessage],
      ['Error', r.error && `${r.error.type}: ${r.error.message}`],
    ];
    meta.replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v!)]));
    timeline.replaceChildren(requestTimeline(r));
    cancel.toggleAttribute('disabled', isRequestFinished(r.status));
  }
}
