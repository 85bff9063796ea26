// What the panels' pages keep in VS Code's webview state (setState). VS Code keeps it while the panel is
// open, through the page it discards while the tab is hidden, and across a window reload, where it hands
// it to the panel's serializer (extension/panels/panels.ts) and to the page that serializer loads. Both
// read it back through these functions, which keep only what fits this version's shape: a state written
// by an older page, or garbage, gives a clean panel, never a broken one.
import { isRecord } from './task-model';
import type { FieldIssue, LaunchForm } from './webview';
import { REQUEST_ID_PREFIX } from './wire';

export type FieldKey = keyof LaunchForm;

export const FIELD_KEYS: readonly FieldKey[] = ['taskFile', 'clusterName', 'infra', 'cpus', 'memory', 'accelerators', 'numNodes', 'envs'];

export interface LaunchFormState {
  /** The entries, as the fields held them. */
  form: Partial<LaunchForm>;
  /** Fields the user edited, whose issues show (all of them once Launch was pressed). */
  touched: FieldKey[];
  showAll: boolean;
  /** The last opening of the form (`launch-init`'s `openedOn.opening`) whose task file was selected: each is applied once. */
  opening: number;
  /** The last launch's outcome line and the issues the server gave at its fields. */
  result?: { ok: boolean; text: string };
  serverIssues: FieldIssue[];
}

/** A bound on what is read back (a field of the form holds far less), so a corrupt state cannot flood the page. */
const MAX_ENTRY = 100_000;
const MAX_ISSUES = 50;

const isFieldKey = (key: unknown): key is FieldKey => typeof key === 'string' && (FIELD_KEYS as readonly string[]).includes(key);

/** The Launch form's state, from whatever `getState()` returned; anything that does not fit is dropped. */
export function launchFormState(saved: unknown): LaunchFormState {
  const state: LaunchFormState = { form: {}, touched: [], showAll: false, opening: 0, serverIssues: [] };
  if (!isRecord(saved)) return state;
  if (isRecord(saved.form)) {
    for (const key of FIELD_KEYS) {
      const value = saved.form[key];
      if (typeof value === 'string' && value.length <= MAX_ENTRY) state.form[key] = value;
    }
  }
  if (Array.isArray(saved.touched)) state.touched = [...new Set(saved.touched.filter(isFieldKey))];
  state.showAll = saved.showAll === true;
  if (typeof saved.opening === 'number' && Number.isSafeInteger(saved.opening) && saved.opening > 0) state.opening = saved.opening;
  if (isRecord(saved.result) && typeof saved.result.ok === 'boolean' && typeof saved.result.text === 'string' && saved.result.text.length <= MAX_ENTRY) {
    state.result = { ok: saved.result.ok, text: saved.result.text };
  }
  if (Array.isArray(saved.serverIssues)) {
    state.serverIssues = saved.serverIssues
      .filter((i): i is FieldIssue => isRecord(i) && (i.field === '' || isFieldKey(i.field)) && typeof i.message === 'string' && i.message.length <= MAX_ENTRY)
      .slice(0, MAX_ISSUES)
      .map((i) => ({ field: i.field, message: i.message }));
  }
  return state;
}

/**
 * What the Request details page keeps: which request it shows (the page saves it as it loads, so a reload
 * can bring the panel back), and the reader's search and place in the log (the log itself comes again
 * from the server).
 */
export interface RequestDetailsState {
  /** Absent when the state names none that fits: such a panel cannot be restored. */
  requestId?: string;
  search: string;
  following: boolean;
  /** The absolute line at the top of the view, when the reader had scrolled up (not following). */
  topLine?: number;
}

const MAX_SEARCH = 1_000;

export function requestDetailsState(saved: unknown): RequestDetailsState {
  const state: RequestDetailsState = { search: '', following: true };
  if (!isRecord(saved)) return state;
  const { requestId, search, following, topLine } = saved;
  if (typeof requestId === 'string' && REQUEST_ID_PREFIX.test(requestId)) state.requestId = requestId;
  if (typeof search === 'string' && search.length <= MAX_SEARCH) state.search = search;
  if (following === false) state.following = false;
  if (!state.following && typeof topLine === 'number' && Number.isSafeInteger(topLine) && topLine >= 0) state.topLine = topLine;
  return state;
}
