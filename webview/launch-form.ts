// The Launch form: task file, cluster and resource overrides, checked as you type with the same rules
// the extension applies on submit (protocol/webview.ts), then posted as one `launch` call.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { formIssues, type ExtensionToWebview, type FieldIssue, type LaunchForm } from '../protocol/webview';
import { call, el, onMessage } from './host';

type Init = Extract<ExtensionToWebview, { type: 'launch-init' }>;
type FieldKey = keyof LaunchForm;

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
  const touched = new Set<FieldKey>();
  let showAll = false;
  let pending: true | undefined;

  const form = el('div', { class: 'form' });
  for (const spec of FIELDS) {
    const input = (spec.kind === 'select' ? el('vscode-single-select') : spec.kind === 'textarea' ? el('vscode-textarea', { rows: '3' }) : el('vscode-textfield')) as ValueElement;
    input.id = spec.key;
    if (spec.placeholder) input.setAttribute('placeholder', spec.placeholder);
    input.setAttribute('name', spec.key);
    const issue = el('div', { class: 'issue', 'data-for': spec.key, role: 'alert' });
    inputs.set(spec.key, input);
    issueNodes.set(spec.key, issue);
    form.append(el('vscode-label', { for: spec.key }, spec.label), el('div', { class: 'field' }, input, issue));
    const onEdit = () => {
      touched.add(spec.key);
      validate();
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

  const read = (): LaunchForm => Object.fromEntries(FIELDS.map((f) => [f.key, inputs.get(f.key)!.value ?? ''])) as unknown as LaunchForm;

  const show = (issues: FieldIssue[]) => {
    for (const [key, node] of issueNodes) {
      if (key === '') continue;
      const mine = issues.filter((i) => i.field === key && (showAll || touched.has(key)));
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

  launch.addEventListener('click', () => {
    if (pending !== undefined) return;
    showAll = true;
    result.className = 'result';
    result.textContent = '';
    if (validate().length > 0) return;
    pending = true;
    launch.setAttribute('disabled', '');
    result.textContent = 'Submitting...';
    call('launch', { form: read() })
      .then(
        (answer) => {
          if (answer.requestId) {
            result.className = 'result ok';
            result.textContent = `Submitted: request ${answer.requestId}. Its log is in the Output panel.`;
          } else {
            result.className = 'result error';
            result.textContent = 'Not launched: fix the problems above.';
            show(answer.issues ?? []);
          }
        },
        (err: Error) => {
          result.className = 'result error';
          result.textContent = `Not launched: ${err.message}`;
        },
      )
      .finally(() => {
        pending = undefined;
        launch.removeAttribute('disabled');
      });
  });

  onMessage((message) => {
    if (message.type === 'launch-init') fill(message);
  });

  // The extension sends an init when the page loads and again whenever the form is opened while it shows,
  // which can arrive after the user started filling it in: an init refreshes the choices and never takes an
  // entry back, except that it selects the task file the form was opened on.
  let filled = false;
  function fill(init: Init): void {
    const entries = read();
    const taskFiles = init.taskFiles.length > 0 ? init.taskFiles : [{ uri: '', label: '(no task YAML in the workspace)' }];
    // `selected` on the option, not `value` on the select: the select learns its options asynchronously (and
    // selects the first when none is).
    const choose = (value: string, chosen: string | undefined): Record<string, string> => (value === chosen ? { selected: '' } : {});
    inputs.get('taskFile')!.replaceChildren(...taskFiles.map((f) => el('vscode-option', { value: f.uri, ...choose(f.uri, init.openedOn ?? entries.taskFile) }, f.label)));
    const infras = [{ value: '', label: 'as in the task file' }, ...init.infras.map((i) => ({ value: i, label: i }))];
    inputs.get('infra')!.replaceChildren(...infras.map((i) => el('vscode-option', { value: i.value, ...choose(i.value, entries.infra) }, i.label)));
    hint.textContent = init.clusters.length > 0 ? `Existing clusters: ${init.clusters.map((c) => `${c.name} (${c.status}, ${c.infra})`).join(', ')}` : 'No clusters yet: the name you give creates one.';
    // Issues the server gave for the last launch stay until an entry changes: only a new task file rechecks.
    if (!filled || init.openedOn !== undefined) validate();
    filled = true;
  }
}
