// SkyPilot's task flags (`--cpus`, `--gpus`, `--infra`, `--use-spot`...) laid over a task file's values:
// a flag replaces the key, `none` (or an empty value) removes it, as `sky launch` does. A flag that would
// replace a key one of the file's any_of/ordered candidates sets itself is refused: it would erase the
// difference between the candidates.
import { normalizeInfra } from './task-resources';
import { TaskValidationError, validateTask, type Task, type TaskIssue } from './task';
import { hasOverrides, isRecord } from './task-model';

export { hasOverrides } from './task-model';

/** The task options of `launch` and `exec`, as the command line gave them (undefined: not given). */
export interface TaskOverrides {
  name?: string;
  workdir?: string;
  numNodes?: number;
  infra?: string;
  cloud?: string;
  region?: string;
  zone?: string;
  cpus?: string;
  memory?: string;
  gpus?: string;
  instanceType?: string;
  useSpot?: boolean;
  imageId?: string;
  diskSize?: string;
  diskTier?: string;
  networkTier?: string;
  ports?: string[];
  /** `jobs launch --job-recovery STRATEGY`. */
  jobRecovery?: string;
  /** `--git-url`/`--git-ref`: the workdir becomes (or, when it is one already, changes) a git mapping {url, ref}. */
  gitUrl?: string;
  gitRef?: string;
  /** SkyPilot config overrides (`--config`), merged into the task's `config`. */
  config?: Record<string, unknown>;
}

/** Each resources flag and the key it sets. */
type ResourceOption = 'cpus' | 'memory' | 'gpus' | 'instanceType' | 'useSpot' | 'imageId' | 'diskSize' | 'diskTier' | 'networkTier' | 'ports' | 'jobRecovery';
const RESOURCE_FLAGS: [ResourceOption, string, string][] = [
  ['cpus', 'cpus', '--cpus'],
  ['memory', 'memory', '--memory'],
  ['gpus', 'accelerators', '--gpus'],
  ['instanceType', 'instance_type', '--instance-type'],
  ['useSpot', 'use_spot', '--use-spot'],
  ['imageId', 'image_id', '--image-id'],
  ['diskSize', 'disk_size', '--disk-size'],
  ['diskTier', 'disk_tier', '--disk-tier'],
  ['networkTier', 'network_tier', '--network-tier'],
  ['ports', 'ports', '--ports'],
  ['jobRecovery', 'job_recovery', '--job-recovery'],
];

const FLAG_OF_PATH: Record<string, string> = {
  name: '-n/--name',
  workdir: '--workdir/--git-url/--git-ref',
  num_nodes: '--num-nodes',
  'resources.infra': '--infra',
  config: '--config',
  ...Object.fromEntries(RESOURCE_FLAGS.map(([, key, flag]) => [`resources.${key}`, flag])),
};

/** SkyPilot's "reset this key" values. */
const isReset = (v: string) => v.trim() === '' || v.trim().toLowerCase() === 'none';


/** The task with the flags' values on top, checked again with the one schema; issues name the flag. */
export function applyOverrides(task: Task, o: TaskOverrides): Task {
  if (!hasOverrides(o)) return task;
  const issues: TaskIssue[] = [];
  const { any_of: anyOf, ordered, ...base } = task.resources ?? {};
  const resources: Record<string, unknown> = { ...base };
  const candidates = anyOf ?? ordered ?? [];
  const listKey = anyOf ? 'any_of' : 'ordered';
  const conflict = (key: string, flag: string) => {
    const i = candidates.findIndex((c) => (c as Record<string, unknown>)[key] !== undefined);
    if (i >= 0) issues.push({ path: `resources.${listKey}.${i}.${key}`, message: `${flag} cannot override ${key}: the file's ${listKey} candidates set it themselves; edit the candidates or drop ${flag}` });
    return i >= 0;
  };

  for (const [option, key, flag] of RESOURCE_FLAGS) {
    const value = o[option];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (conflict(key, flag)) continue;
    if (typeof value === 'boolean') resources[key] = value;
    else if (Array.isArray(value)) {
      if (value.some(isReset) && value.length > 1) issues.push({ path: `resources.${key}`, message: `${flag}: give none alone or ports, not both` });
      else if (value.some(isReset)) delete resources[key];
      else resources[key] = value.flatMap((v) => v.split(',')).map((v) => v.trim());
    } else if (isReset(value)) delete resources[key];
    else resources[key] = key === 'disk_size' && /^\d+$/.test(value) ? Number(value) : value;
  }

  const infraFlags = o.infra !== undefined || o.cloud !== undefined || o.region !== undefined || o.zone !== undefined;
  if (infraFlags && !conflict('infra', o.infra !== undefined ? '--infra' : '--cloud/--region/--zone')) {
    const infra = overriddenInfra(base.infra, o, issues);
    if (infra === undefined) delete resources.infra;
    else resources.infra = infra;
  }

  const next: Record<string, unknown> = { ...task };
  const hasResources = Object.keys(resources).length > 0 || candidates.length > 0;
  if (hasResources) next.resources = { ...resources, ...(anyOf ? { any_of: anyOf } : {}), ...(ordered ? { ordered } : {}) };
  else delete next.resources;
  if (o.name !== undefined) next.name = o.name;
  if (o.workdir !== undefined) next.workdir = o.workdir;
  const workdir = gitWorkdir(task.workdir, o, issues);
  if (workdir !== undefined) next.workdir = workdir;
  if (o.numNodes !== undefined) next.num_nodes = o.numNodes;
  if (o.config !== undefined) next.config = mergeDeep((task.config ?? {}) as Record<string, unknown>, o.config);
  if (issues.length > 0) throw new TaskValidationError(issues);
  try {
    return validateTask(next);
  } catch (err) {
    if (!(err instanceof TaskValidationError)) throw err;
    // A bad flag value is reported as the flag's, not as a line of the file it never came from.
    throw new TaskValidationError(err.issues.map((i) => ({ ...i, message: flagOf(i.path) ? `${flagOf(i.path)}: ${i.message}` : i.message })));
  }
}

/**
 * SkyPilot's --git-url/--git-ref: a URL makes the workdir {url, ref}; over a git workdir of the file they
 * replace its url or ref. A ref with nothing to check it out of is refused, rather than dropped unsaid.
 */
function gitWorkdir(current: Task['workdir'], o: TaskOverrides, issues: TaskIssue[]): Task['workdir'] {
  if (o.gitUrl === undefined && o.gitRef === undefined) return undefined;
  if (o.gitUrl !== undefined && o.workdir !== undefined) {
    issues.push({ path: 'workdir', message: '--git-url and --workdir both set the workdir; give one' });
    return undefined;
  }
  const base = typeof current === 'object' && o.workdir === undefined ? current : undefined;
  const url = o.gitUrl ?? base?.url;
  if (url === undefined) {
    issues.push({ path: 'workdir', message: '--git-ref needs a repository: give --git-url too, or a task whose workdir is {url, ref}' });
    return undefined;
  }
  const ref = o.gitRef ?? (o.gitUrl === undefined ? base?.ref : undefined);
  return { url, ...(ref !== undefined ? { ref } : {}) };
}

function flagOf(path: string): string | undefined {
  for (const [prefix, flag] of Object.entries(FLAG_OF_PATH)) if (path === prefix || path.startsWith(`${prefix}.`)) return flag;
  return undefined;
}

/** `--infra` replaces the infra; `--cloud`, `--region`, `--zone` replace one part of it (`*` or none clears it). */
function overriddenInfra(current: string | undefined, o: TaskOverrides, issues: TaskIssue[]): string | undefined {
  let parts = (current ?? '').split('/').filter((p) => p !== '');
  if (o.infra !== undefined) {
    if (isReset(o.infra)) parts = [];
    else {
      const infra = normalizeInfra(o.infra);
      if (infra === undefined) issues.push({ path: 'resources.infra', message: `--infra ${JSON.stringify(o.infra)}: expected KIND[/REGION[/ZONE]] such as local, ssh/<pool> or slurm/<partition>` });
      parts = (infra ?? '').split('/');
    }
  }
  const set = (i: number, v: string | undefined) => {
    if (v === undefined) return;
    while (parts.length < i) parts.push('*');
    parts[i] = isReset(v) || v === '*' ? '*' : v;
  };
  set(0, o.cloud?.toLowerCase());
  set(1, o.region);
  set(2, o.zone);
  while (parts.length > 0 && parts[parts.length - 1] === '*') parts.pop();
  return parts.length === 0 ? undefined : parts.join('/');
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isRecord(prev) && isRecord(v) ? mergeDeep(prev, v) : v;
  }
  return out;
}

/** `--config a.b=c` pairs (values read as YAML scalars by the caller) into a nested mapping. */
export function configFromPairs(pairs: [string, unknown][]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const [path, value] of pairs) {
    const keys = path.split('.');
    let nested: Record<string, unknown> = {};
    nested[keys[keys.length - 1]!] = value;
    for (let i = keys.length - 2; i >= 0; i--) nested = { [keys[i]!]: nested };
    out = mergeDeep(out, nested);
  }
  return out;
}
