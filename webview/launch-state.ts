// What the Launch form keeps in VS Code's webview state, so hiding its tab (VS Code then discards the page)
// and showing it again brings back what was entered. Read back through `launchFormState`, which keeps only
// what fits this version's shape: a state written by an older page, or garbage, never breaks the form.
import type { FieldIssue, LaunchForm } from '../protocol/webview';

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

/** The state saved by this page, from whatever `getState()` returned; anything that does not fit is dropped. */
export function launchFormState(saved: unknown): LaunchFormState {
  const state: LaunchFormState = { form: {}, touched: [], showAll: false, opening: 0, serverIssues: [] };
  if (!isObject(saved)) return state;
  if (isObject(saved.form)) {
    for (const key of FIELD_KEYS) {
      const value = saved.form[key];
      if (typeof value === 'string' && value.length <= MAX_ENTRY) state.form[key] = value;
    }
  }
  if (Array.isArray(saved.touched)) state.touched = [...new Set(saved.touched.filter(isFieldKey))];
  state.showAll = saved.showAll === true;
  if (typeof saved.opening === 'number' && Number.isSafeInteger(saved.opening) && saved.opening > 0) state.opening = saved.opening;
  if (isObject(saved.result) && typeof saved.result.ok === 'boolean' && typeof saved.result.text === 'string' && saved.result.text.length <= MAX_ENTRY) {
    state.result = { ok: saved.result.ok, text: saved.result.text };
  }
  if (Array.isArray(saved.serverIssues)) {
    state.serverIssues = saved.serverIssues
      .filter((i): i is FieldIssue => isObject(i) && (i.field === '' || isFieldKey(i.field)) && typeof i.message === 'string' && i.message.length <= MAX_ENTRY)
      .slice(0, MAX_ISSUES)
      .map((i) => ({ field: i.field, message: i.message }));
  }
  return state;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
