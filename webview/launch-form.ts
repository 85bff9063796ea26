// The Launch form: task file, cluster and resource overrides, checked as you type with the same rules
// the extension applies on submit (protocol/webview.ts), then posted as one `launch` call. What was entered
// is kept in the webview state (protocol/webview-state.ts) on every change, and restored when VS Code reloads
// the page after its tab was hidden or the window was reloaded.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { formIssues, type ExtensionToWebview, type FieldIssue, type LaunchForm } from '../protocol/webview';
import { call, el, onMessage, saveState, savedState } from './host';
import { launchFormState, type FieldKey } from '../protocol/webview-state';

type Init = Extract<ExtensionToWebview, { type: 'launch-init' }>;

interface FieldSpec {
  key: FieldKey;
  label: string;
  kind: 'select' | 'text' | 'textarea';
  placeholder?: string;
}

const FIELDS: FieldSpec[] = [
  { key: 'taskFile', label: 'Task file', kind: 'select' },
  { key: 'clusterName', label: 'Cluster', kind: 'text', placeholder: 'my-cluster (new or existing)' },
  { key: 'infra', label: 'Infra', kind: 'select' },
  { key: 'cpus', label: 'CPUs', kind: 'text', placeholder: 'as in the task file, e.g. 4 or 4+' },
  { key: 'memory', label: 'Memory (GiB)', kind: 'text', placeholder: 'as in the task file, e.g. 16+' },
  { key: 'accelerators', label: 'Accelerators', kind: 'text', placeholder: 'as in the task file, e.g. A100:2' },
  { key: 'numNodes', label: 'Nodes', kind: 'text', placeholder: 'as in the task file, e.g. 2' },
  { key: 'envs', label: 'Envs', kind: 'textarea', placeholder: 'KEY=VALUE, one per line' },
];

type ValueElement = HTMLElement & { value: string };

export function startLaunchForm(root: HTMLElement): void {
  const inputs = new Map<FieldKey, ValueElement>();
  const issueNodes = new Map<FieldKey | '', HTMLElement>();
  // Kept in step with the fields (each edit writes its own), and saved whole after every change.
  const state = launchFormState(savedState());
  const touched = new Set<FieldKey>(state.touched);
  const persist = () => saveState({ ...state, touched: [...touched] });
  let pending: true | undefined;

  const form = el('div', { class: 'form' });
  for (const spec of FIELDS) {
    const input = (spec.kind === 'select' ? el('vscode-single-select') : spec.kind === 'textarea' ? el('vscode-textarea', { rows: '3' }) : el('vscode-textfield')) as ValueElement;
    input.id = spec.key;
    if (spec.placeholder) input.setAttribute('placeholder', spec.placeholder);
    input.setAttribute('name', spec.key);
    // A select gets its restored value with its options, from the first init.
    if (spec.kind !== 'select') input.value = state.form[spec.key] ?? '';
    const issue = el('div', { class: 'issue', 'data-for': spec.key, role: 'alert' });
    inputs.set(spec.key, input);
    issueNodes.set(spec.key, issue);
    form.append(el('vscode-label', { for: spec.key }, spec.label), el('div', { class: 'field' }, input, issue));
    const onEdit = () => {
      touched.add(spec.key);
      state.form[spec.key] = input.value ?? '';
      state.serverIssues = [];
      validate();
      persist();
    };
    input.addEventListener('input', onEdit);
    input.addEventListener('change', onEdit);
  }
  const launch = el('vscode-button', { id: 'launch' }, 'Launch');
  const result = el('div', { class: 'result', id: 'result', role: 'status' });
  issueNodes.set('', result);
  form.append(el('div', { class: 'actions' }, launch));
  const hint = el('div', { class: 'hint', id: 'clusters-hint' });
  root.replaceChildren(el('h1', {}, 'Launch a task'), form, hint, result);

  // From the state, which each edit keeps in step with its field: a select's own value lags its new options.
  const read = (): LaunchForm => Object.fromEntries(FIELDS.map((f) => [f.key, state.form[f.key] ?? ''])) as unknown as LaunchForm;

  const show = (issues: FieldIssue[]) => {
    for (const [key, node] of issueNodes) {
      if (key === '') continue;
      const mine = issues.filter((i) => i.field === key && (state.showAll || touched.has(key)));
      node.textContent = mine.map((i) => i.message).join('; ');
      inputs.get(key)?.toggleAttribute('invalid', mine.length > 0);
    }
    const general = issues.filter((i) => i.field === '');
    if (general.length > 0) {
      result.className = 'result error';
      result.textContent = general.map((i) => i.message).join('; ');
    }
  };

  const validate = (): FieldIssue[] => {
    const issues = formIssues(read());
    show(issues);
    return issues;
  };

  const showResult = (outcome: { ok: boolean; text: string } | undefined) => {
    result.className = outcome ? `result ${outcome.ok ? 'ok' : 'error'}` : 'result';
    result.textContent = outcome?.text ?? '';
  };

  launch.addEventListener('click', () => {
    if (pending !== undefined) return;
    state.showAll = true;
    state.result = undefined;
    state.serverIssues = [];
    showResult(undefined);
    persist();
    if (validate().length > 0) return;
    pending = true;
    launch.setAttribute('disabled', '');
    result.textContent = 'Submitting...';
    call('launch', { form: read() })
      .then(
        (answer) => {
          if (answer.requestId) {
            state.result = { ok: true, text: `Submitted: request ${answer.requestId}. Its log is in the Output panel.` };
          } else {
            state.result = { ok: false, text: 'Not launched: fix the problems above.' };
            state.serverIssues = answer.issues ?? [];
          }
          showResult(state.result);
          show(state.serverIssues);
        },
        (err: Error) => {
          state.result = { ok: false, text: `Not launched: ${err.message}` };
          showResult(state.result);
        },
      )
      .finally(() => {
        persist();
        pending = undefined;
        launch.removeAttribute('disabled');
      });
  });

  onMessage((message) => {
    if (message.type === 'launch-init') fill(message);
  });

  showResult(state.result);

  // The extension sends an init when the page loads (also after its tab was hidden, VS Code reloading the page
  // then: the entries come back from the state) and again whenever the form is opened while it shows, which can
  // arrive after the user started filling it in: an init refreshes the choices and never takes an entry back,
  // except that it selects the task file of an opening the page has not applied yet.
  let filled = false;
  function fill(init: Init): void {
    const opened = init.openedOn && init.openedOn.opening !== state.opening ? init.openedOn : undefined;
    const taskFiles = init.taskFiles.length > 0 ? init.taskFiles : [{ uri: '', label: '(no task YAML in the workspace)' }];
    const infras = [{ value: '', label: 'as in the task file' }, ...init.infras.map((i) => ({ value: i, label: i }))];
    // What each select shows: the wanted value when it is still a choice, else the first (a restored file may be gone).
    const wanted = (choices: string[], value: string | undefined) => (value !== undefined && choices.includes(value) ? value : choices[0]!);
    state.form.taskFile = wanted(taskFiles.map((f) => f.uri), opened?.taskFile ?? state.form.taskFile);
    state.form.infra = wanted(infras.map((i) => i.value), state.form.infra);
    if (opened) state.opening = opened.opening;
    // `selected` on the option, not `value` on the select: the select learns its options asynchronously (and
    // selects the first when none is).
    const choose = (value: string, chosen: string | undefined): Record<string, string> => (value === chosen ? { selected: '' } : {});
    inputs.get('taskFile')!.replaceChildren(...taskFiles.map((f) => el('vscode-option', { value: f.uri, ...choose(f.uri, state.form.taskFile) }, f.label)));
    inputs.get('infra')!.replaceChildren(...infras.map((i) => el('vscode-option', { value: i.value, ...choose(i.value, state.form.infra) }, i.label)));
    hint.textContent = init.clusters.length > 0 ? `Existing clusters: ${init.clusters.map((c) => `${c.name} (${c.status}, ${c.infra})`).join(', ')}` : 'No clusters yet: the name you give creates one.';
    // Issues the server gave for the last launch stay until an entry changes (also across a reload): only a
    // new task file rechecks.
    if (opened || (!filled && state.serverIssues.length === 0)) {
      state.serverIssues = [];
      validate();
    } else if (!filled) show(state.serverIssues);
    filled = true;
    persist();
  }
}
