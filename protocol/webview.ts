// Messages between the extension and its webview panels (Launch form, Request details).
// The webview posts `ready` once its script runs; the extension sends nothing before that. A page asks
// for something and waits for the answer through one typed request/reply channel (`WebviewCalls`).
import { clusterName } from './api';
import type { Cluster, RequestStatus, RequestSummary } from './model';
import { fillEnvs, parseEnvFile, pathToString, resourcesSchema, TaskValidationError, validateTask, type Task } from './task';

/** Which panel a webview page is; the extension writes it into the page, the script reads it. */
export const PANEL_KINDS = ['launch', 'request'] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

export interface TaskFileChoice {
  /** Workspace-relative path shown to the user. */
  label: string;
  /** URI string the extension reads the file from. */
  uri: string;
}

/** What the Launch form submits; empty strings mean "keep what the task file says". */
export interface LaunchForm {
  taskFile: string;
  clusterName: string;
  infra: string;
  cpus: string;
  memory: string;
  accelerators: string;
  numNodes: string;
  /** `KEY=VALUE` lines. */
  envs: string;
}

/** A problem with one form field, named by the LaunchForm key it belongs to. */
export interface FieldIssue {
  field: keyof LaunchForm | '';
  message: string;
}

/** What a page may ask the extension, each with its parameters and its answer. */
export interface WebviewCalls {
  /** Launch the form's task; the answer is the new request, or the issues to show at their fields. */
  launch: { params: { form: LaunchForm }; result: { requestId?: string; issues?: FieldIssue[] } };
}
export type WebviewMethod = keyof WebviewCalls;

export type WebviewCall = { [M in WebviewMethod]: { type: 'call'; id: number; method: M; params: WebviewCalls[M]['params'] } }[WebviewMethod];
/** The answer to call `replyTo`: its result, or why it failed. */
export type WebviewReply = { type: 'reply'; replyTo: number; result?: WebviewCalls[WebviewMethod]['result']; error?: string };

export type ExtensionToWebview =
  | {
      type: 'launch-init';
      taskFiles: TaskFileChoice[];
      clusters: Pick<Cluster, 'name' | 'infra' | 'status'>[];
      infras: string[];
      /**
       * The task file the form was last opened on (explorer, CodeLens), selected over the page's choice once:
       * `opening` names that opening (unique, also across window reloads), and a page that already applied it
       * (it restored its entries after its tab was hidden) keeps its entries.
       */
      openedOn?: { taskFile: string; opening: number };
    }
  | WebviewReply
  | { type: 'request-init'; request: RequestSummary; mine: boolean }
  | { type: 'request-updated'; request: RequestSummary }
  /** The server has no such request (it expired, or the panel was restored against another server). */
  | { type: 'request-unknown'; requestId: string }
  | { type: 'log'; data: string }
  | { type: 'log-end'; status: RequestStatus };

export type WebviewToExtension =
  | { type: 'ready' }
  | WebviewCall
  | { type: 'cancel-request'; requestId: string }
  | { type: 'open-log-channel'; requestId: string };

// ---- the Launch form's rules, shared so the webview checks as you type and the extension on submit ----

const FIELD_OF_PATH: Record<string, keyof LaunchForm> = {
  'resources.infra': 'infra',
  'resources.cloud': 'infra',
  'resources.cpus': 'cpus',
  'resources.memory': 'memory',
  'resources.accelerators': 'accelerators',
  num_nodes: 'numNodes',
  envs: 'envs',
  secrets: 'envs',
};

/** Which form field a task key path (`resources.cpus`, `envs.TOKEN`) belongs to; '' when none does. */
export function fieldOfPath(path: string): keyof LaunchForm | '' {
  return FIELD_OF_PATH[path] ?? FIELD_OF_PATH[path.split('.')[0]!] ?? '';
}

/** Checks the fields that need no task file: the cluster name and the overrides' formats. */
export function formIssues(form: LaunchForm): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!form.taskFile) issues.push({ field: 'taskFile', message: 'choose a task file' });
  const cluster = clusterName.safeParse(form.clusterName.trim());
  if (!cluster.success) issues.push({ field: 'clusterName', message: form.clusterName.trim() ? cluster.error.issues[0]!.message : 'give the cluster a name' });
  const resources = resourcesSchema.safeParse(resourceOverrides(form));
  if (!resources.success) for (const issue of resources.error.issues) issues.push({ field: fieldOfPath(pathToString(['resources', ...issue.path])), message: issue.message });
  if (form.numNodes.trim() && !/^\d+$/.test(form.numNodes.trim())) issues.push({ field: 'numNodes', message: 'a whole number of nodes, such as 2' });
  try {
    envOverrides(form);
  } catch (err) {
    issues.push({ field: 'envs', message: err instanceof TaskValidationError ? err.issues[0]!.message : String(err) });
  }
  return issues;
}

/** The task file's task with the form's overrides on top; throws TaskValidationError when the result is not valid. */
export function applyForm(task: Task, form: LaunchForm): Task {
  const resources = { ...task.resources, ...resourceOverrides(form) };
  const numNodes = form.numNodes.trim() ? Number(form.numNodes.trim()) : task.num_nodes;
  const merged = validateTask({ ...task, resources: Object.keys(resources).length > 0 ? resources : undefined, num_nodes: numNodes });
  return fillEnvs(merged, envOverrides(form));
}

function resourceOverrides(form: LaunchForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['infra', 'cpus', 'memory', 'accelerators'] as const) if (form[key].trim()) out[key] = form[key].trim();
  return out;
}

function envOverrides(form: LaunchForm): Record<string, string> {
  return parseEnvFile(form.envs, 'envs');
}
