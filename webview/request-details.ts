// The Request details panel: metadata, a status timeline, the live log with ANSI colours, follow and
// search, and Cancel. The log view and the timeline are shared with the dashboard (ui/).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { isRequestFinished, type RequestSummary } from '../protocol/model';
import { LogView } from '../ui/log-view';
import { requestTimeline } from '../ui/timeline';
import { el, onMessage, post } from './host';

export function startRequestDetails(root: HTMLElement): void {
  let request: RequestSummary | undefined;

  const title = el('h1', {}, 'Request');
  const meta = el('dl', { class: 'meta' });
  const timeline = el('div');
  const follow = el('vscode-checkbox', { id: 'follow', checked: '' }, 'Follow') as HTMLElement & { checked: boolean };
  const search = el('vscode-textfield', { id: 'search', placeholder: 'Search the log' }) as HTMLElement & { value: string };
  const matches = el('span', { id: 'matches' });
  const cancel = el('vscode-button', { id: 'cancel', secondary: '' }, 'Cancel Request');
  const openChannel = el('vscode-button', { id: 'open-channel', secondary: '' }, 'Open in Output');
  // Scrolling up to read stops following; scrolling back to the bottom resumes it.
  const log = new LogView({ id: 'log', label: 'request log', droppedHint: 'open it in the Output panel for all of it', onFollowChange: (on) => (follow.checked = on) });
  root.replaceChildren(title, meta, el('h2', {}, 'Timeline'), timeline, el('h2', {}, 'Log'), el('div', { class: 'toolbar' }, follow, search, matches, cancel, openChannel), log.element);

  follow.addEventListener('change', () => log.follow(follow.checked));
  cancel.addEventListener('click', () => request && post({ type: 'cancel-request', requestId: request.id }));
  openChannel.addEventListener('click', () => request && post({ type: 'open-log-channel', requestId: request.id }));
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const term = search.value ?? '';
      const count = log.search(term);
      matches.textContent = term ? `${count} match${count === 1 ? '' : 'es'}` : '';
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
      case 'log':
        log.append(message.data);
        break;
      case 'log-end':
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
