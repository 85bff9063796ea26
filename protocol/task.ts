// Task files in SkyPilot's task-YAML format: the schema, parsing with line numbers, and env filling.
// Used by the CLI and the extension before submitting, and by the server on every body it accepts.
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import * as z from 'zod';
import { resourcesSchema } from './task-resources';
import { ENV_NAME, fillEnvValues, isRecord } from './task-model';
import { poolSchema, serviceSchema, configSchema } from './task-service';
import { fileMountsSchema, volumeMountsSchema, volumesSchema, workdirSchema } from './task-storage';
import { TaskValidationError, type TaskIssue } from './task-issues';

export { TaskValidationError, formatIssues, type TaskIssue } from './task-issues';
export { ENV_NAME, UNUSED_SECTIONS, fillEnvValues, parseEnvArg, parseEnvFile, substituteEnvs, taskInfra, unusedSections } from './task-model';

export const TASK_FILE_MAX_BYTES = 1024 * 1024;

/** Env values may be any scalar (numbers and booleans are written as YAML gives them); null means "required". */
const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((v) => (v === null ? null : String(v)));
const envName = z.string().regex(ENV_NAME, 'env names are letters, digits and _, not starting with a digit');
const envMap = z.record(envName, envValue);

/** A managed secret reference (`secrets:NAME` in SkyPilot's secrets, or an entry of managed_secrets). */
const MANAGED_PREFIX = 'secrets:';
const managedSecret = z.union([z.string().min(1), z.record(z.string().min(1), z.strictObject({ mount_path: z.string().optional() })).refine((m) => Object.keys(m).length === 1, 'give one secret name per entry')]);

const secrets = z
  .union([z.record(z.string().min(1), envValue), z.array(z.string().regex(/^secrets:.+/, 'list entries are managed secret references such as secrets:HF_TOKEN'))])
  .describe('Secret envs (values are never shown); secrets:NAME entries refer to managed secrets.');

/** `{file: size_gb}`: SkyPilot's experimental inputs/outputs. */
const dataSize = z.record(z.string().min(1), z.number()).refine((m) => Object.keys(m).length <= 1, 'give at most one entry');

const taskObject = z.lazy(() => z.strictObject({
  name: z.string().min(1).max(256).optional().describe('Task name, shown in the job queue.'),
  workdir: workdirSchema.optional(),
  event_callback: z.string().optional().describe('A command run on job events (SkyPilot; accepted).'),
  num_nodes: z.number().int().min(1).max(1024).optional().describe('Nodes the task runs on (default 1).'),
  resources: resourcesSchema.optional().describe('What each node needs and where it may run.'),
  file_mounts: fileMountsSchema.optional(),
  service: serviceSchema.optional(),
  pool: poolSchema.optional(),
  setup: z.string().optional().describe('Commands run once on every node before run.'),
  run: z.string().optional().describe('The commands of the job, run on every node.'),
  envs: envMap.optional().describe('Envs set for setup and run; null means it must be given with --env.'),
  secrets: secrets.optional(),
  managed_secrets: z.array(managedSecret).optional().describe('Secrets kept by a SkyPilot server, by name (accepted).'),
  inputs: dataSize.optional().describe('Experimental: the input data and its size in GB (accepted).'),
  outputs: dataSize.optional().describe('Experimental: the output data and its size in GB (accepted).'),
  file_mounts_mapping: z.record(z.string(), z.unknown()).optional().describe('Internal to SkyPilot; accepted and unused.'),
  config: configSchema.optional(),
  volumes: volumesSchema.optional(),
  volume_mounts: volumeMountsSchema.optional(),
  api_server_access: z.boolean().optional().describe('Whether the job may call the API server (SkyPilot; accepted).'),
  _metadata: z.record(z.string(), z.unknown()).optional().describe('Internal to SkyPilot; accepted and unused.'),
}));

/**
 * The one task schema: every key SkyPilot's task schema has. Its output is the normalised task (aliases
 * folded, accelerator sets as candidates, sizes in GiB, secrets split from managed references), which is
 * itself valid input, so a task can be checked again wherever it travels.
 */
export const taskSchema = z.lazy(() => taskObject.transform((raw, ctx) => {
  if (raw.service !== undefined && raw.pool !== undefined) ctx.issues.push({ code: 'custom', input: raw, path: ['pool'], message: 'give service or pool, not both' });
  const { secrets: rawSecrets, managed_secrets: managed0, ...rest } = raw;
  const managed = [...(managed0 ?? [])];
  let inline: Record<string, string | null> | undefined;
  if (Array.isArray(rawSecrets)) managed.push(...rawSecrets.map((s) => s.slice(MANAGED_PREFIX.length)));
  else if (rawSecrets !== undefined) {
    inline = {};
    for (const [key, value] of Object.entries(rawSecrets)) {
      if (key.startsWith(MANAGED_PREFIX)) {
        if (value !== null) ctx.issues.push({ code: 'custom', input: value, path: ['secrets', key], message: 'a secrets: reference takes no value (leave it null); drop the prefix for an inline secret' });
        managed.push(key.slice(MANAGED_PREFIX.length));
      } else if (!ENV_NAME.test(key)) {
        ctx.issues.push({ code: 'custom', input: key, path: ['secrets', key], message: 'secret names are letters, digits and _, not starting with a digit' });
      } else inline[key] = value;
    }
  }
  return {
    ...rest,
    ...(inline !== undefined ? { secrets: inline } : {}),
    ...(managed.length > 0 ? { managed_secrets: managed } : {}),
  };
}));

/** A task after validation: what clients submit and the server runs. */
export type Task = z.output<typeof taskSchema>;

/** A multi-document file: SkyPilot's chain of tasks (a pipeline), with the optional name-only header. */
export interface TaskChain {
  name?: string;
  tasks: Task[];
}

export function pathToString(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** Validates a task object (already parsed); throws TaskValidationError with key paths. */
export function validateTask(input: unknown): Task {
  const result = taskSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new TaskValidationError(zodIssues(result.error.issues));
}

/** Parses and validates a one-task YAML file; issues carry line numbers. A chain of tasks is refused, as `sky launch` does. */
export function parseTaskYaml(text: string, file?: string): Task {
  const chain = parseTaskDocuments(text, file);
  if (chain.tasks.length !== 1) {
    throw new TaskValidationError(
      [{ path: '', line: 1, message: `this file is a chain of ${chain.tasks.length} tasks (YAML documents separated by ---); launch and exec run one task, and SkyDeck does not run pipelines yet: split it into one file per task` }],
      file,
    );
  }
  return chain.tasks[0]!;
}

/**
 * Parses every YAML document of a task file: one task, or SkyPilot's chain of tasks (documents separated
 * by `---`, optionally headed by a document holding only `name`). Issues carry line numbers.
 */
export function parseTaskDocuments(text: string, file?: string): TaskChain {
  if (text.length > TASK_FILE_MAX_BYTES) {
    throw new TaskValidationError([{ path: '', message: `task file is larger than ${TASK_FILE_MAX_BYTES} bytes` }], file);
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const list = [...docs];
  const errors = list.flatMap((d) => d.errors);
  if (errors.length > 0) {
    throw new TaskValidationError(
      errors.map((e) => ({ path: '', line: lineCounter.linePos(e.pos[0]).line, message: `not valid YAML: ${e.message.split('\n')[0]}` })),
      file,
    );
  }
  const values = list.map((doc) => {
    try {
      // A small alias budget stops "billion laughs" documents before they expand.
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (err) {
      throw new TaskValidationError([{ path: '', line: lineCounter.linePos(doc.range[0]).line, message: `not a usable YAML document: ${(err as Error).message}` }], file);
    }
  });
  // An empty file is an empty task; empty documents between separators are skipped, as SkyPilot does.
  const present = list.map((doc, i) => ({ doc, value: values[i] })).filter((d, _i, all) => all.length === 1 || (d.value !== null && d.value !== undefined));
  if (present.length === 0) return { tasks: [validateTask({})] };
  const isHeader = (v: unknown) => isRecord(v) && Object.keys(v).every((k) => k === 'name' || k === 'execution') && 'name' in v;
  let name: string | undefined;
  if (present.length > 1 && isHeader(present[0]!.value)) {
    const header = present.shift()!.value as Record<string, unknown>;
    name = String(header.name);
  }
  const issues: TaskIssue[] = [];
  const tasks: Task[] = [];
  for (const { doc, value } of present) {
    const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
    if (value !== null && value !== undefined && !isRecord(value)) {
      issues.push({ path: '', line: lineAt(doc.range[0]), message: 'a task file must be a YAML mapping of keys such as resources, setup and run' });
      continue;
    }
    const result = taskSchema.safeParse(value ?? {});
    if (result.success) {
      tasks.push(result.data);
      continue;
    }
    // The line of the key itself when the path ends in one, else of the value (a list item), else of the deepest part present.
    const lineOf = (path: readonly PropertyKey[]): number | undefined => {
      for (let n = path.length; n >= 0; n--) {
        const at = keyOffset(doc, path.slice(0, n)) ?? (doc.getIn(path.slice(0, n) as unknown[], true) as YamlNode | undefined)?.range?.[0];
        if (at !== undefined) return lineAt(at);
      }
      return undefined;
    };
    const keyLine = (path: readonly PropertyKey[], key: string): number | undefined => lineAt(keyOffset(doc, [...path, key]));
    issues.push(...zodIssues(result.error.issues, lineOf, keyLine));
  }
  if (issues.length > 0) throw new TaskValidationError(issues, file);
  return { ...(name !== undefined ? { name } : {}), tasks };
}

/** Where the key at the end of `path` is written (its own line, not its value's). */
function keyOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true);
  if (!isMap(parent)) return undefined;
  const key = String(path[path.length - 1]);
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return (pair?.key as YamlNode | undefined)?.range?.[0];
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
        const known = knownKeys(issue.path).filter((k) => !k.startsWith('_'));
        const hint = suggest(key, known);
        out.push({
          path: pathToString([...issue.path, key]),
          line: keyLine?.(issue.path, key),
          message: `unknown key${hint ? `; did you mean ${hint}?` : ''} (known keys: ${known.join(', ')})`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union') {
      // A union's own message ("Invalid input") says nothing; its closest branch says what is wrong.
      const best = closestBranch(issue);
      if (best) {
        out.push(...zodIssues(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })), lineOf, keyLine));
        continue;
      }
    }
    out.push({ path: pathToString(issue.path), line: lineOf?.(issue.path), message: describeIssue(issue) });
  }
  return out;
}

/** The branch of a failed union that got furthest: the one whose issues lie deepest (it matched the outer shape). */
function closestBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const branches = issue.errors.filter((b) => b.length > 0);
  if (branches.length === 0) return undefined;
  const depth = (b: z.core.$ZodIssue[]) => Math.max(...b.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
  const ranked = [...branches].sort((a, b) => depth(b) - depth(a));
  if (depth(ranked[0]!) === 0) return undefined;
  return ranked[0];
}

/** Zod's messages, in the words of a task file: what was expected. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return `required key is missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_type') return issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_union') {
    const expected = [...new Set(issue.errors.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => (i as z.core.$ZodIssueInvalidType).expected)))];
    if (expected.length > 0) return `expected ${expected.join(' or ')}`;
  }
  return issue.message;
}

/** The keys SkyPilot's schema knows at a path, read from the JSON Schema generated from the one schema. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  return [...new Set(taskSchemaAt(path).flatMap((n) => Object.keys(n.properties ?? {})))];
}

/**
 * The JSON Schema nodes (every union branch) a value at a key path may match: numbers step into list items,
 * other steps into properties or, for maps such as envs, their value schema. Editors read keys and docs here.
 */
export function taskSchemaAt(path: readonly PropertyKey[]): JsonSchemaNode[] {
  let nodes: JsonSchemaNode[] = [taskJsonSchema()];
  for (const step of path) {
    nodes = nodes.flatMap(variants).flatMap((n) => {
      if (typeof step === 'number') return n.items ? [n.items] : [];
      const prop = n.properties?.[String(step)];
      if (prop) return [prop];
      return typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
  }
  return nodes.flatMap(variants);
}

export interface JsonSchemaNode {
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
}

function variants(n: JsonSchemaNode): JsonSchemaNode[] {
  const subs = [...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])];
  return subs.length > 0 ? [n, ...subs.flatMap(variants)] : [n];
}

let jsonSchema: JsonSchemaNode | undefined;

/**
 * The task schema as JSON Schema (draft 2020-12), generated from the zod schema: what a task file may be
 * written as (the input side). Editors use it for diagnostics; it is never written by hand.
 */
export function taskJsonSchema(): JsonSchemaNode & Record<string, unknown> {
  jsonSchema ??= z.toJSONSchema(taskObject, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchemaNode;
  return jsonSchema as JsonSchemaNode & Record<string, unknown>;
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

/** fillEnvValues (task-model.ts), and the filled task validated again when its file_mounts or workdir changed. */
export function fillEnvs(task: Task, overrides: Record<string, string> = {}, secretOverrides: Record<string, string> = {}): Task {
  const filled = fillEnvValues(task, overrides, secretOverrides);
  return filled.recheck ? validateTask(filled.task) : filled.task;
}

export { resourceCandidates, resourcesSchema, candidateSchema, parseAcceleratorCount, type ResourceCandidate, type TaskResources, type Autostop } from './task-resources';
export { copiedMounts, pathMounts, storageMounts, isLocalSource, type FileMounts, type StorageMount, type Workdir } from './task-storage';
