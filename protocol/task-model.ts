// What a validated task means, as plain functions over it: env filling, the sections SkyDeck does not use,
// the infra it asks for. Nothing here needs yaml or zod (task.ts holds the schema and the parsing), so the
// CLI runs a task it already validated once without loading either (issue 8: they were most of a
// `launch --dryrun`). task.ts re-exports all of it.
import type { Task } from './task';
import { TaskValidationError, type TaskIssue } from './task-issues';
import type { ResourceCandidate, TaskResources } from './task-resources';
import type { TaskOverrides } from './task-overrides';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The top-level sections SkyDeck parses but does not act on, and why (one line each, for launch to print). */
export const UNUSED_SECTIONS: Record<string, string> = {
  service: 'SkyServe services are not run by SkyDeck; the task runs as a plain job',
  pool: 'SkyPilot worker pools are not run by SkyDeck',
  config: 'SkyPilot config overrides apply to clouds and Kubernetes, which SkyDeck does not provision',
  volumes: 'SkyPilot volumes are not provisioned by SkyDeck',
  volume_mounts: 'SkyPilot volumes are not provisioned by SkyDeck',
  event_callback: 'job event callbacks are not run by SkyDeck',
  inputs: 'inputs are an optimizer hint for cloud egress, which SkyDeck does not price',
  outputs: 'outputs are an optimizer hint for cloud egress, which SkyDeck does not price',
  managed_secrets: 'managed secrets live on a SkyPilot server; give the values with --secret instead',
  file_mounts_mapping: 'internal to SkyPilot',
  _metadata: 'internal to SkyPilot',
  api_server_access: 'jobs reach the SkyDeck server only with credentials you give them',
};

/** One line per section of the task that SkyDeck parses and does not use. */
export function unusedSections(task: Task): string[] {
  return Object.entries(UNUSED_SECTIONS)
    .filter(([key]) => (task as Record<string, unknown>)[key] !== undefined)
    .map(([key, why]) => `${key}: not used (${why})`);
}

/**
 * Applies `--env` and `--secret` overrides, checks that every required env and secret (declared with a
 * null value) now has one, and fills `${VAR}` / `$VAR` references in file_mounts, workdir, service and
 * volumes from the envs and secrets, as SkyPilot does. Returns a new task (the input is not changed) and
 * whether it must be validated again: what the references in file_mounts or workdir became is checked like
 * the rest (SkyPilot checks storage mappings after filling them). fillEnvs in task.ts does both.
 */
export function fillEnvValues(task: Task, overrides: Record<string, string> = {}, secretOverrides: Record<string, string> = {}): { task: Task; recheck: boolean } {
  const envs = { ...task.envs };
  const secrets = { ...task.secrets };
  for (const [k, v] of Object.entries(overrides)) {
    if (!ENV_NAME.test(k)) throw new TaskValidationError([{ path: `envs.${k}`, message: 'not a valid env name' }]);
    if (k in secrets) secrets[k] = v;
    else envs[k] = v;
  }
  for (const [k, v] of Object.entries(secretOverrides)) {
    if (!ENV_NAME.test(k)) throw new TaskValidationError([{ path: `secrets.${k}`, message: 'not a valid secret name' }]);
    secrets[k] = v;
  }
  const missing: TaskIssue[] = [
    ...Object.entries(envs).filter(([, v]) => v === null).map(([k]) => ({ path: `envs.${k}`, message: `required env has no value; pass --env ${k}=VALUE` })),
    ...Object.entries(secrets).filter(([, v]) => v === null).map(([k]) => ({ path: `secrets.${k}`, message: `required secret has no value; pass --secret ${k}=VALUE` })),
  ];
  if (missing.length > 0) throw new TaskValidationError(missing);
  const values = { ...envs, ...secrets } as Record<string, string>;
  const filled = substituteEnvs({ ...task, ...(task.envs || Object.keys(envs).length ? { envs } : {}), ...(task.secrets || Object.keys(secrets).length ? { secrets } : {}) }, values);
  return { task: filled, recheck: filled.file_mounts !== task.file_mounts || filled.workdir !== task.workdir };
}

/** `${VAR}` and `$VAR` for the VARs in `values`; other references are left as written. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** `value` with its references filled; the very same value (not a copy) where there was nothing to fill. */
function substitute<T>(value: T, values: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(ENV_REFERENCE, (whole, a?: string, b?: string) => values[(a ?? b)!] ?? whole) as T;
  if (Array.isArray(value)) {
    const out = value.map((v) => substitute(v, values));
    return out.every((v, i) => v === value[i]) ? value : (out as T);
  }
  if (isRecord(value)) {
    const entries = Object.entries(value);
    const out = entries.map(([k, v]) => [substitute(k, values), substitute(v, values)] as const);
    return out.every(([k, v], i) => k === entries[i]![0] && v === entries[i]![1]) ? value : (Object.fromEntries(out) as T);
  }
  return value;
}

/** Fills env references in the sections SkyPilot fills them in (file_mounts keys and values, workdir, service, volumes). */
export function substituteEnvs(task: Task, values: Record<string, string | null | undefined>): Task {
  const known = Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const out = { ...task };
  for (const key of ['file_mounts', 'workdir', 'service', 'volumes'] as const) {
    if (out[key] !== undefined) (out as Record<string, unknown>)[key] = substitute(out[key], known);
  }
  return out;
}

/** Parses `K=V` lines of an env file (blank lines and # comments skipped; `export ` and quotes allowed). */
export function parseEnvFile(text: string, file = 'env file'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new TaskValidationError([{ path: '', line: index + 1, message: `expected KEY=VALUE, got ${JSON.stringify(line.slice(0, 40))}` }], file);
    let value = m[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[m[1]!] = value;
  });
  return out;
}

/** Parses one `K=V` from the command line; a bare `K` (value undefined) means "take it from my environment". */
export function parseEnvArg(arg: string, flag = '--env', section = 'envs'): [string, string | undefined] {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  if (!ENV_NAME.test(key)) throw new TaskValidationError([{ path: `${section}.${key}`, message: `${flag} expects KEY=VALUE, got ${JSON.stringify(arg)}` }]);
  return [key, eq < 0 ? undefined : arg.slice(eq + 1)];
}

/** The infra a task asks for, defaulting to the embedded local backend (of its first candidate when candidates name several). */
export function taskInfra(task: Task): string {
  const infras = [...new Set(resourceCandidates(task.resources).candidates.map((c) => c.infra ?? 'local'))];
  return infras.join(' | ');
}

/** The candidates the optimizer considers, each complete (base keys with the candidate's on top; labels merged). */
export function resourceCandidates(resources: TaskResources | undefined): { candidates: ResourceCandidate[]; ordered: boolean } {
  const { any_of: anyOf, ordered, ...base } = resources ?? {};
  const list = anyOf ?? ordered;
  if (!list) return { candidates: [base], ordered: false };
  const merged = list.map((c) => {
    const labels = base.labels || c.labels ? { ...base.labels, ...c.labels } : undefined;
    return { ...base, ...c, ...(labels ? { labels } : {}) };
  });
  return { candidates: merged, ordered: ordered !== undefined };
}

/** `A100:2` as name and count. */
export function parseAcceleratorCount(accelerator: string | undefined): { name: string; count: number } | undefined {
  if (accelerator === undefined) return undefined;
  const i = accelerator.lastIndexOf(':');
  const count = i < 0 ? NaN : Number(accelerator.slice(i + 1));
  return Number.isFinite(count) ? { name: accelerator.slice(0, i), count } : { name: accelerator, count: 1 };
}

/** Whether any of SkyPilot's task flags was given (applyOverrides in task-overrides.ts lays them over the file). */
export function hasOverrides(o: TaskOverrides): boolean {
  return Object.values(o).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
}

/** A file mount source that names something on the client's machine (not a bucket or a URL). */
export function isLocalSource(source: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}
