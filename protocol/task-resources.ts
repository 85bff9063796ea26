// The `resources` section of a task file, as SkyPilot's resources schema defines it, normalised to one
// shape: a base candidate plus `any_of` (pick any) or `ordered` (in order of preference) candidates, each
// with at most one accelerator. `resourceCandidates` gives the optimizer the list it considers.
import * as z from 'zod';
import { DURATION_MINUTES, formatPortRange, parseMinutes, parsePortRange, parseSizeGiB, SIZE } from './task-units';

/** Every infra kind SkyPilot names (its clouds) plus SkyDeck's own `local`. A file may name any of them; the optimizer says which this server serves. */
export const INFRA_KINDS = [
  'local', 'ssh', 'slurm', 'kubernetes', 'aws', 'azure', 'gcp', 'ibm', 'lambda', 'scp', 'oci', 'runpod', 'vast', 'vsphere', 'cudo', 'fluidstack',
  'paperspace', 'primeintellect', 'do', 'nebius', 'hyperbolic', 'seeweb', 'shadeform', 'yotta', 'mithril', 'verda',
] as const;

const KIND_ALIASES: Record<string, string> = { k8s: 'kubernetes' };
const KINDS: ReadonlySet<string> = new Set(INFRA_KINDS);
const INFRA_HINT = `expected KIND[/REGION[/ZONE]] such as local, ssh/<pool> or slurm/<partition> (* for any; kinds: ${INFRA_KINDS.join(', ')})`;

/**
 * `local`, `ssh/lab`, `aws/us-east-1/us-east-1a`, `*`, `*\/us-east-1`, `k8s/ctx/with/slashes`.
 * The kind is lowercased and `k8s` spelt `kubernetes`, so the rest of the system knows one spelling.
 */
export function normalizeInfra(text: string): string | undefined {
  const parts = text.trim().replace(/^\/+|\/+$/g, '').split('/');
  const kind = parts[0]!.toLowerCase();
  const canonical = KIND_ALIASES[kind] ?? kind;
  if (parts.some((p) => p.trim() === '')) return undefined;
  if (canonical === 'kubernetes') return [canonical, ...parts.slice(1)].join('/');
  if (parts.length > 3 || (canonical !== '*' && !KINDS.has(canonical))) return undefined;
  return [canonical, ...parts.slice(1)].join('/');
}

const infra = z
  .string()
  // The shape, for editors reading the JSON Schema; which kinds exist is checked below.
  .regex(/^(\*|[A-Za-z][A-Za-z0-9-]*)(\/[^/]+)*\/?$/, INFRA_HINT)
  .describe('Where to run: KIND[/REGION[/ZONE]], e.g. local, ssh/<pool>, slurm/<partition>; * is any.')
  .transform((v, ctx) => {
    const out = normalizeInfra(v);
    if (out === undefined) ctx.issues.push({ code: 'custom', input: v, message: INFRA_HINT });
    return out ?? v;
  });

const cloud = z
  .string()
  .describe('SkyPilot\'s older spelling of the infra kind (with region and zone).')
  .refine((v) => KINDS.has(KIND_ALIASES[v.toLowerCase()] ?? v.toLowerCase()), { message: `expected one of ${INFRA_KINDS.join(', ')}` });

/** `4`, `4+`, `0.5`: a count where `+` means "at least". */
const cpus = z
  .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?\+?$/, 'expected a number, optionally followed by +, such as 4 or 4+')])
  .describe('vCPUs per node: 4 (exactly, where sizes can be chosen) or 4+ (at least).')
  .transform((v) => String(v));

/** `16`, `16+`, `32GB`, `512MB+`: GiB per node, canonically a number of GiB with `+` for "at least". */
const memory = z
  .union([z.number().positive(), z.string().regex(SIZE, 'expected a size such as 16, 16+, 32GB or 512MB+ (plain numbers are GiB)')])
  .describe('Memory per node in GiB: 16, 16+ (at least), or with a unit: 32GB, 512MB+.')
  .transform((v) => {
    if (typeof v === 'number') return String(v);
    const size = parseSizeGiB(v, true)!;
    return `${size.gib}${size.orMore ? '+' : ''}`;
  });

/** `256`, `256GB`, `1TB`: a whole number of GiB. */
const diskSize = (what: string) =>
  z
    .union([z.number().int().positive(), z.string().regex(/^\d+\s*([kmgtp](i?b|i)?)?$/i, 'expected a whole size such as 256, 256GB or 1TB (plain numbers are GiB)')])
    .describe(what)
    .transform((v) => (typeof v === 'number' ? v : Math.ceil(parseSizeGiB(v, false)!.gib)));

const ACCELERATOR = /^[A-Za-z0-9][A-Za-z0-9_.+-]*(:[A-Za-z0-9_.+-]+)?(:\d+(\.\d+)?)?$/;
const ACCELERATOR_HINT = 'expected NAME or NAME:COUNT, such as A100:2 (or a list, or a set {A100:1, V100:1})';

/** `A100`, `A100:2`, `A100:0.5`, SkyPilot's memory forms (`80GB+`, `nvidia:80GB:2`), as `NAME:COUNT`. */
function canonicalAccelerator(text: string, count?: number | null): string | undefined {
  const t = text.trim();
  if (!ACCELERATOR.test(t)) return undefined;
  if (count !== undefined && count !== null) return t.includes(':') ? undefined : `${t}:${count}`;
  const last = t.split(':').pop()!;
  return /^\d+(\.\d+)?$/.test(last) && t.includes(':') ? t : `${t}:1`;
}

/** One accelerator: what a single candidate (inside any_of/ordered) may give. */
const oneAccelerator = z
  .union([z.string(), z.record(z.string(), z.number().positive())])
  .describe('Accelerators per node: NAME, NAME:COUNT or {NAME: COUNT}.')
  .transform((v, ctx) => {
    const entries = typeof v === 'string' ? [[v, undefined] as const] : Object.entries(v);
    if (entries.length !== 1) {
      ctx.issues.push({ code: 'custom', input: v, message: 'give exactly one accelerator type here' });
      return z.NEVER;
    }
    const [name, count] = entries[0]!;
    const out = canonicalAccelerator(name, count);
    if (out === undefined) ctx.issues.push({ code: 'custom', input: v, message: ACCELERATOR_HINT });
    return out ?? '';
  });

/** What `accelerators` at the top of `resources` may be: one, a list (in order of preference) or a set (any). */
interface AcceleratorChoice {
  names: string[];
  ordered: boolean;
}

const acceleratorChoice = z
  .union([z.string(), z.array(z.string()).min(1), z.record(z.string(), z.number().positive().nullable())])
  .describe('Accelerators per node: NAME, NAME:COUNT, {NAME: COUNT}, a list of candidates in order of preference, or a set {A100:1, V100:1} of candidates.')
  .transform((v, ctx): AcceleratorChoice => {
    let items: [string, number | null | undefined][];
    let ordered = false;
    if (Array.isArray(v)) [items, ordered] = [v.map((s) => [s, undefined]), true];
    else if (typeof v === 'string' && /^\s*\{.*\}\s*$/.test(v)) items = v.trim().slice(1, -1).split(',').map((s) => [s, undefined]);
    else if (typeof v === 'string') items = [[v, undefined]];
    else items = Object.entries(v);
    const names: string[] = [];
    for (const [name, count] of items) {
      const out = canonicalAccelerator(name, count);
      if (out === undefined) ctx.issues.push({ code: 'custom', input: v, message: `${JSON.stringify(name)}: ${ACCELERATOR_HINT}` });
      else if (!names.includes(out)) names.push(out);
    }
    return { names, ordered };
  });

const ports = z
  .union([z.number().int(), z.string(), z.array(z.union([z.number().int(), z.string()])), z.null()])
  .describe('Ports the task serves, opened on the head node: 8080, a range 8000-8010, or a list of both.')
  .transform((v, ctx) => {
    if (v === null) return undefined;
    const out: string[] = [];
    (Array.isArray(v) ? v : [v]).forEach((p, i) => {
      const range = parsePortRange(String(p));
      if (range) out.push(formatPortRange(range));
      else ctx.issues.push({ code: 'custom', input: p, path: Array.isArray(v) ? [i] : [], message: `${JSON.stringify(p)}: expected a port (1-65535) or a range such as 8000-8010` });
    });
    return out;
  });

const autostopObject = z.strictObject({
  idle_minutes: z.number().int().min(0).optional().describe('Idle minutes before the cluster stops (or is torn down with down: true).'),
  down: z.boolean().optional().describe('Tear the cluster down instead of stopping it.'),
  wait_for: z.string().regex(/^(jobs_and_ssh|jobs|none)$/i, 'expected jobs_and_ssh, jobs or none').optional().describe('What counts as activity: jobs_and_ssh, jobs or none.'),
  hook: z.string().optional().describe('A command run before the cluster stops.'),
  hook_timeout: z.number().int().min(1).optional().describe('Seconds the hook may take.'),
});

/** SkyPilot's default idle time when autostop is just switched on. */
export const DEFAULT_IDLE_MINUTES = 5;

export type Autostop = { idle_minutes: number; down: boolean } & Omit<z.output<typeof autostopObject>, 'idle_minutes' | 'down'>;

const autostop = z
  .union([z.boolean(), z.number().int().min(0), z.string().regex(DURATION_MINUTES, 'expected minutes such as 30, or 2h, 1d'), autostopObject])
  .describe('Stop the cluster when idle: true, false, minutes (30, 2h), or {idle_minutes, down, wait_for, hook, hook_timeout}.')
  .transform((v): false | Autostop => {
    if (v === false) return false;
    if (v === true) return { idle_minutes: DEFAULT_IDLE_MINUTES, down: false };
    if (typeof v === 'number') return { idle_minutes: v, down: false };
    if (typeof v === 'string') return { idle_minutes: parseMinutes(v)!, down: false };
    return { ...v, idle_minutes: v.idle_minutes ?? DEFAULT_IDLE_MINUTES, down: v.down ?? false };
  });

const exitCode = z.number().int().min(0).max(255);
const jobRecovery = z
  .union([
    z.string(),
    z.strictObject({
      strategy: z.string().nullable().optional(),
      max_restarts_on_errors: z.number().int().min(0).optional(),
      recover_on_exit_codes: z.union([exitCode, z.array(exitCode)]).optional(),
    }),
  ])
  .describe('How a managed job recovers: a strategy name, or {strategy, max_restarts_on_errors, recover_on_exit_codes}.');

const resourceVolume = z.object({
  disk_size: z.union([z.string().regex(/^\d+\s*([kmgtp](i?b|i)?)?$/i), z.number().int()]).optional(),
  disk_tier: z.string().optional(),
  path: z.string().optional(),
  auto_delete: z.boolean().optional(),
  storage_type: z.string().optional(),
  name: z.string().optional(),
  attach_mode: z.string().optional(),
});

/** The keys of one resources candidate (SkyPilot's single-resources schema), before normalising. */
function candidateShape<A extends z.ZodType>(accelerators: A) {
  return {
    infra: infra.optional(),
    cloud: cloud.optional(),
    region: z.string().min(1).optional().describe('Region (with cloud); part of infra.'),
    zone: z.string().min(1).optional().describe('Zone (with cloud); part of infra.'),
    cpus: cpus.optional(),
    memory: memory.optional(),
    accelerators: accelerators.optional(),
    accelerator_args: z
      .strictObject({ runtime_version: z.string().optional(), tpu_name: z.string().optional(), tpu_vm: z.boolean().optional(), gcp_queued_resource: z.boolean().optional() })
      .optional()
      .describe('TPU settings (runtime_version, tpu_name, tpu_vm, gcp_queued_resource).'),
    instance_type: z.string().optional().describe('A cloud instance type, such as p3.2xlarge.'),
    use_spot: z.boolean().optional().describe('Use spot (preemptible) capacity.'),
    job_recovery: jobRecovery.optional(),
    spot_recovery: jobRecovery.optional().describe('Older spelling of job_recovery.'),
    disk_size: diskSize('OS disk size per node: GiB (256) or with a unit (1TB).').optional(),
    ephemeral_storage: diskSize('Ephemeral storage per node: GiB or with a unit.').optional(),
    disk_tier: z.string().regex(/^(low|medium|high|ultra|best)$/i, 'expected low, medium, high, ultra or best').optional().describe('Disk performance tier: low, medium, high, ultra, best.'),
    network_tier: z.string().regex(/^(standard|best)$/i, 'expected standard or best').optional().describe('Network tier: standard or best.'),
    local_disk: z.string().optional().describe('Local (instance) disk, such as nvme:1000.'),
    max_hourly_cost: z.number().positive().optional().describe('Highest hourly cost accepted.'),
    ports: ports.optional(),
    labels: z.record(z.string().min(1), z.string()).optional().describe('Labels recorded on the cluster (key: value).'),
    image_id: z
      .union([z.string().min(1), z.record(z.string(), z.string()), z.null()])
      .optional()
      .describe('Container image setup and run execute in: docker:IMAGE (local and SSH hosts with Docker); {region: image} uses its first image.'),
    autostop: autostop.optional(),
    priority: z.number().int().min(-1000).max(1000).optional().describe('Job priority, -1000 to 1000 (higher first).'),
    priority_class: z.string().optional().describe('Kubernetes priority class.'),
    volumes: z.array(resourceVolume).optional().describe('Disks attached to the nodes.'),
    _no_missing_accel_warnings: z.boolean().optional().describe('Internal to SkyPilot; accepted and unused.'),
    _docker_login_config: z.strictObject({ username: z.string(), password: z.string(), server: z.string() }).optional().describe('Internal to SkyPilot; accepted and unused.'),
    _is_image_managed: z.boolean().optional().describe('Internal to SkyPilot; accepted and unused.'),
    _requires_fuse: z.boolean().optional().describe('Internal to SkyPilot; accepted and unused.'),
    _cluster_config_overrides: z.record(z.string(), z.unknown()).optional().describe('Internal to SkyPilot; accepted and unused.'),
  };
}

type RawCandidate = z.output<z.ZodObject<ReturnType<typeof candidateShape<typeof oneAccelerator>>>>;

/** One resources candidate after normalising: infra in one key, job_recovery in one key, at most one accelerator. */
export type ResourceCandidate = Omit<RawCandidate, 'cloud' | 'region' | 'zone' | 'spot_recovery' | 'ports'> & { ports?: string[] };

/** Folds cloud/region/zone into infra and spot_recovery into job_recovery; reports conflicts at their keys. */
function foldAliases(raw: Omit<RawCandidate, 'accelerators'> & { accelerators?: unknown }, ctx: z.RefinementCtx): Record<string, unknown> {
  const { cloud, region, zone, spot_recovery, ...rest } = raw;
  const out: Record<string, unknown> = { ...rest };
  if (cloud !== undefined || region !== undefined || zone !== undefined) {
    if (rest.infra !== undefined) {
      const key = cloud !== undefined ? 'cloud' : region !== undefined ? 'region' : 'zone';
      ctx.issues.push({ code: 'custom', input: raw, path: [key], message: `give either infra or cloud/region/zone, not both (infra is ${rest.infra})` });
    } else if (cloud === undefined && region === undefined) {
      out.infra = `*/*/${zone}`;
    } else {
      const kind = cloud === undefined ? '*' : (KIND_ALIASES[cloud.toLowerCase()] ?? cloud.toLowerCase());
      out.infra = [kind, region ?? (zone !== undefined ? '*' : undefined), zone].filter((p) => p !== undefined).join('/');
    }
  }
  if (spot_recovery !== undefined) {
    if (rest.job_recovery !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: ['spot_recovery'], message: 'give job_recovery only (spot_recovery is its older spelling)' });
    else out.job_recovery = spot_recovery;
  }
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** A candidate inside any_of / ordered: SkyPilot's single-resources schema. */
export const candidateSchema = z.lazy(() => z
  .strictObject({ ...candidateShape(oneAccelerator), gpus: oneAccelerator.optional().describe('Alias of accelerators.') })
  .transform((raw, ctx) => {
    const { gpus, ...rest } = raw;
    if (gpus !== undefined && rest.accelerators !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: ['gpus'], message: 'give accelerators or gpus (its alias), not both' });
    return foldAliases({ ...rest, accelerators: rest.accelerators ?? gpus }, ctx) as ResourceCandidate;
  }));

/** `resources`, normalised: a base candidate and, at most one of, any_of or ordered candidates that override it. */
export type TaskResources = ResourceCandidate & { any_of?: ResourceCandidate[]; ordered?: ResourceCandidate[] };

export const resourcesSchema = z.lazy(() => z
  .strictObject({
    ...candidateShape(acceleratorChoice),
    gpus: acceleratorChoice.optional().describe('Alias of accelerators.'),
    any_of: z.array(candidateSchema).optional().describe('Candidates the optimizer may pick any of (cheapest first); each overrides the keys above.'),
    ordered: z.array(candidateSchema).optional().describe('Candidates in order of preference; each overrides the keys above.'),
  })
  .transform((raw, ctx): TaskResources => {
    const { gpus, any_of: anyOf0, ordered: ordered0, accelerators: accelerators0, ...rest } = raw;
    // An empty candidate list is no list, as in SkyPilot.
    const anyOf = anyOf0?.length ? anyOf0 : undefined;
    const ordered = ordered0?.length ? ordered0 : undefined;
    if (gpus !== undefined && accelerators0 !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: ['gpus'], message: 'give accelerators or gpus (its alias), not both' });
    if (anyOf !== undefined && ordered !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: ['ordered'], message: 'give any_of or ordered, not both' });
    const choice = accelerators0 ?? gpus;
    const key = accelerators0 !== undefined ? 'accelerators' : 'gpus';
    const base = foldAliases(rest, ctx) as ResourceCandidate;
    if (choice === undefined || choice.names.length === 0) return withCandidates(base, anyOf, ordered);
    if (choice.names.length === 1) return withCandidates({ ...base, accelerators: choice.names[0] }, anyOf, ordered);
    // Several accelerators are several candidates, as in SkyPilot: a list is in order, a set is any.
    if (ordered !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: [key], message: 'several accelerators cannot be combined with ordered; list them as ordered candidates' });
    if (anyOf !== undefined && choice.ordered) ctx.issues.push({ code: 'custom', input: raw, path: [key], message: 'an ordered list of accelerators cannot be combined with any_of; give a set {A:1, B:1} or list them in any_of' });
    const perAccelerator = (c: ResourceCandidate): ResourceCandidate[] => (c.accelerators !== undefined ? [c] : choice.names.map((a) => ({ ...c, accelerators: a })));
    if (anyOf !== undefined) return { ...base, any_of: anyOf.flatMap(perAccelerator) };
    const candidates = choice.names.map((a) => ({ accelerators: a }));
    return choice.ordered ? { ...base, ordered: candidates } : { ...base, any_of: candidates };
  }));

function withCandidates(base: ResourceCandidate, anyOf: ResourceCandidate[] | undefined, ordered: ResourceCandidate[] | undefined): TaskResources {
  return { ...base, ...(anyOf ? { any_of: anyOf } : {}), ...(ordered ? { ordered } : {}) };
}

export { resourceCandidates, parseAcceleratorCount } from './task-model';
