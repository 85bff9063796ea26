// The Request details panel: metadata, a status timeline, the live log with ANSI colours, follow and
// search, and Cancel. The log keeps at most MAX_CHARS; older output is dropped with a note.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { isRequestFinished, type RequestSummary } from '../protocol/model';
import { AnsiParser, type StyledRun } from './ansi';
import { el, onMessage, post } from './host';

const MAX_CHARS = 2_000_000;

export function startRequestDetails(root: HTMLElement): void {
  let request: RequestSummary | undefined;
  let runs: StyledRun[] = [];
  let chars = 0;
  let dropped = false;
  let parser = new AnsiParser();
  let term = '';

  const title = el('h1', {}, 'Request');
  const meta = el('dl', { class: 'meta' });
  const timeline = el('ol', { class: 'timeline' });
  const follow = el('vscode-checkbox', { id: 'follow', checked: '' }, 'Follow');
  const search = el('vscode-textfield', { id: 'search', placeholder: 'Search the log' }) as HTMLElement & { value: string };
  const matches = el('span', { id: 'matches' });
  const cancel = el('vscode-button', { id: 'cancel', secondary: '' }, 'Cancel Request');
  const openChannel = el('vscode-button', { id: 'open-channel', secondary: '' }, 'Open in Output');
  const log = el('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-label': 'request log' });
  root.replaceChildren(title, meta, el('h2', {}, 'Timeline'), timeline, el('h2', {}, 'Log'), el('div', { class: 'toolbar' }, follow, search, matches, cancel, openChannel), log);

  const following = () => follow.hasAttribute('checked') || (follow as unknown as { checked: boolean }).checked;

  cancel.addEventListener('click', () => request && post({ type: 'cancel-request', requestId: request.id }));
  openChannel.addEventListener('click', () => request && post({ type: 'open-log-channel', requestId: request.id }));
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      term = search.value ?? '';
      renderLog();
    }, 150);
  });
  // Scrolling up to read stops following; scrolling back to the bottom resumes it.
  log.addEventListener('scroll', () => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 4;
    (follow as unknown as { checked: boolean }).checked = atBottom;
  });

  onMessage((message) => {
    switch (message.type) {
      case 'request-init':
        runs = [];
        chars = 0;
        dropped = false;
        parser = new AnsiParser();
        renderRequest(message.request);
        renderLog();
        break;
      case 'request-updated':
        renderRequest(message.request);
        break;
      case 'log':
        appendLog(message.data);
        break;
      case 'log-end':
        appendLog('');
        log.setAttribute('data-ended', message.status);
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
    const finished = isRequestFinished(r.status);
    const step = (name: string, at: number | undefined, state: 'done' | 'now' | '') => el('li', { class: state }, name, el('span', { class: 'when' }, at ? new Date(at).toLocaleTimeString() : '—'));
    timeline.replaceChildren(
      step('Created', r.createdAt, 'done'),
      step('Started', r.startedAt, r.startedAt ? (finished ? 'done' : 'now') : ''),
      step(finished ? r.status[0] + r.status.slice(1).toLowerCase() : 'Finished', r.finishedAt, finished ? 'done' : ''),
    );
    cancel.toggleAttribute('disabled', finished);
  }

  function appendLog(data: string): void {
    const fresh = data ? parser.push(data) : [];
    runs.push(...fresh);
    chars += data.length;
    while (chars > MAX_CHARS && runs.length > 1) {
      chars -= runs.shift()!.text.length;
      dropped = true;
    }
    if (term || log.childElementCount > 5000) renderLog();
    else log.append(...fresh.map(runNode));
    if (following()) log.scrollTop = log.scrollHeight;
  }

  function renderLog(): void {
    const nodes: Node[] = dropped ? [el('div', { class: 'dropped' }, '(earlier output dropped; open it in the Output panel for more)')] : [];
    let count = 0;
    if (!term) nodes.push(...runs.map(runNode));
    else {
      const lower = term.toLowerCase();
      for (const run of runs) {
        const node = el('span', run.classes ? { class: run.classes } : {});
        const text = run.text;
        let at = 0;
        for (let i = text.toLowerCase().indexOf(lower); i >= 0; i = text.toLowerCase().indexOf(lower, i + lower.length)) {
          node.append(text.slice(at, i), el('mark', {}, text.slice(i, i + term.length)));
          at = i + term.length;
          count++;
        }
        node.append(text.slice(at));
        nodes.push(node);
      }
    }
    log.replaceChildren(...nodes);
    matches.textContent = term ? `${count} match${count === 1 ? '' : 'es'}` : '';
    if (term) log.querySelector('mark')?.scrollIntoView({ block: 'center' });
    else if (following()) log.scrollTop = log.scrollHeight;
  }
}

function runNode(run: StyledRun): Node {
  return run.classes ? el('span', { class: run.classes }, run.text) : document.createTextNode(run.text);
}
