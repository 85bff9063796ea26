// Task files in SkyPilot's task-YAML format: the schema, parsing with line numbers, and env filling.
// Used by the CLI and the extension before submitting, and by the server on every body it accepts.
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';

export const TASK_FILE_MAX_BYTES = 1024 * 1024;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INFRA = /^[a-z][a-z0-9-]*(\/[A-Za-z0-9._-]+)*$/;
const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** `4`, `4+`, `0.5`: SkyPilot's cpus and memory (GiB) asks; `+` means "at least". */
const quantity = z
  .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?\+?$/, 'expected a number, optionally followed by +, such as 4 or 4+')])
  .transform((v) => String(v));

/** `A100`, `A100:2`, or SkyPilot's mapping form `{A100: 2}`. */
const accelerators = z
  .union([
    z.string().regex(/^[A-Za-z0-9_-]+(:\d+(\.\d+)?)?$/, 'expected NAME or NAME:COUNT, such as A100:2'),
    z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.number().positive()).refine((m) => Object.keys(m).length === 1, 'give exactly one accelerator type'),
  ])
  .transform((v) => (typeof v === 'string' ? v : Object.entries(v).map(([k, n]) => `${k}:${n}`)[0]!));

const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((v) => (v === null ? null : String(v)));
const envMap = z.record(z.string().regex(ENV_NAME, 'env names are letters, digits and _, not starting with a digit'), envValue);

export const resourcesSchema = z.strictObject({
  infra: z.string().regex(INFRA, 'expected an infra such as local, ssh/<pool> or slurm/<partition>').optional(),
  /** SkyPilot's older spelling of infra. */
  cloud: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a cloud name such as local').optional(),
  cpus: quantity.optional(),
  memory: quantity.optional(),
  accelerators: accelerators.optional(),
});

export const taskSchema = z.strictObject({
  name: z.string().regex(TASK_NAME, 'letters, digits, . _ - (at most 63), starting with a letter or digit').optional(),
  workdir: z.string().min(1).optional(),
  num_nodes: z.number().int().min(1).max(1024).optional(),
  resources: resourcesSchema.optional(),
  envs: envMap.optional(),
  secrets: envMap.optional(),
  file_mounts: z.record(z.string().min(1), z.string().min(1)).optional(),
  setup: z.string().optional(),
  run: z.string().optional(),
});

/** A task after validation: what clients submit and the server runs. */
export type Task = z.output<typeof taskSchema>;

export interface TaskIssue {
  /** Key path, such as `resources.cpus` or `envs.TOKEN`. */
  path: string;
  message: string;
  /** 1-based line in the task file, when the task came from a file. */
  line?: number;
}

export class TaskValidationError extends Error {
  readonly type = 'TaskValidationError';
  constructor(
    readonly issues: TaskIssue[],
    readonly file?: string,
  ) {
    super(formatIssues(issues, file));
    this.name = 'TaskValidationError';
  }
}

export function formatIssues(issues: TaskIssue[], file?: string): string {
  const where = (i: TaskIssue) => [file, i.line].filter((x) => x !== undefined).join(':');
  return issues.map((i) => `${where(i) ? where(i) + ': ' : ''}${i.path || '(task)'}: ${i.message}`).join('\n');
}

export function pathToString(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** Validates a task object (already parsed); throws TaskValidationError with key paths. */
export function validateTask(input: unknown): Task {
  const result = taskSchema.safeParse(input ?? {});
  if (result.success) return normalize(result.data);
  throw new TaskValidationError(zodIssues(result.error.issues));
}

/** Parses and validates task YAML; issues carry line numbers. */
export function parseTaskYaml(text: string, file?: string): Task {
  if (text.length > TASK_FILE_MAX_BYTES) {
    throw new TaskValidationError([{ path: '', message: `task file is larger than ${TASK_FILE_MAX_BYTES} bytes` }], file);
  }
  const lineCounter = new LineCounter();
  // A small alias budget stops "billion laughs" documents before they expand.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new TaskValidationError(
      doc.errors.map((e) => ({ path: '', line: lineCounter.linePos(e.pos[0]).line, message: `not valid YAML: ${e.message.split('\n')[0]}` })),
      file,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new TaskValidationError([{ path: '', message: `not a usable YAML document: ${(err as Error).message}` }], file);
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new TaskValidationError([{ path: '', line: 1, message: 'a task file must be a YAML mapping of keys such as resources, setup and run' }], file);
  }
  const result = taskSchema.safeParse(value ?? {});
  if (result.success) return normalize(result.data);
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    const node = doc.getIn(path as unknown[], true) as YamlNode | undefined;
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const keyLine = (path: readonly PropertyKey[], key: string): number | undefined => {
    const parent = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    const offset = (pair?.key as YamlNode | undefined)?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  throw new TaskValidationError(zodIssues(result.error.issues, lineOf, keyLine), file);
}

function zodIssues(
  issues: readonly z.core.$ZodIssue[],
  lineOf?: (path: readonly PropertyKey[]) => number | undefined,
  keyLine?: (path: readonly PropertyKey[], key: string) => number | undefined,
): TaskIssue[] {
  const out: TaskIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const known = knownKeys(issue.path);
        const hint = suggest(key, known);
        out.push({
          path: pathToString([...issue.path, key]),
          line: keyLine?.(issue.path, key),
          message: `unknown key${hint ? `; did you mean ${hint}?` : ''} (known keys: ${known.join(', ')})`,
        });
      }
      continue;
    }
    out.push({ path: pathToString(issue.path), line: lineOf?.(issue.path), message: issue.message });
  }
  return out;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  return path.length === 1 && path[0] === 'resources' ? Object.keys(resourcesSchema.shape) : Object.keys(taskSchema.shape);
}

/** The known key closest to a misspelt one, when it is close enough to be a likely typo. */
function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Folds SkyPilot's `cloud:` into `infra:` so the rest of the system knows one spelling. */
function normalize(task: Task): Task {
  if (task.resources?.cloud !== undefined) {
    const { cloud, ...rest } = task.resources;
    if (rest.infra !== undefined && rest.infra.split('/')[0] !== cloud) {
      throw new TaskValidationError([{ path: 'resources.cloud', message: `conflicts with resources.infra (${rest.infra})` }]);
    }
    return { ...task, resources: { ...rest, infra: rest.infra ?? cloud } };
  }
  return task;
}

/**
 * Applies `--env` overrides and checks that every required env (declared with a null value) and secret
 * now has one. Returns a new task; the input is not changed.
 */
export function fillEnvs(task: Task, overrides: Record<string, string> = {}, secretOverrides: Record<string, string> = {}): Task {
  const envs = { ...task.envs };
  const secrets = { ...task.secrets };
  for (const [k, v] of Object.entries(overrides)) {
    if (!ENV_NAME.test(k)) throw new TaskValidationError([{ path: `envs.${k}`, message: 'not a valid env name' }]);
    if (k in secrets) secrets[k] = v;
    else envs[k] = v;
  }
  for (const [k, v] of Object.entries(secretOverrides)) secrets[k] = v;
  const missing: TaskIssue[] = [
    ...Object.entries(envs).filter(([, v]) => v === null).map(([k]) => ({ path: `envs.${k}`, message: `required env has no value; pass --env ${k}=VALUE` })),
    ...Object.entries(secrets).filter(([, v]) => v === null).map(([k]) => ({ path: `secrets.${k}`, message: `required secret has no value; pass --env ${k}=VALUE` })),
  ];
  if (missing.length > 0) throw new TaskValidationError(missing);
  return { ...task, envs, secrets };
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
export function parseEnvArg(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  if (!ENV_NAME.test(key)) throw new TaskValidationError([{ path: `envs.${key}`, message: `--env expects KEY=VALUE, got ${JSON.stringify(arg)}` }]);
  return [key, eq < 0 ? undefined : arg.slice(eq + 1)];
}

/** The infra a task asks for, defaulting to the embedded local backend. */
export function taskInfra(task: Task): string {
  return task.resources?.infra ?? 'local';
}
