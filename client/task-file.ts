// Turns a task file (or an inline command) into the task a client submits: validated, local paths made absolute,
// envs filled; and maps issues the server reports back to lines of the file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { ClientError } from './errors';
import { fillEnvs, parseEnvArg, parseEnvFile, parseTaskYaml, TaskValidationError, validateTask, type Task, type TaskIssue } from '../protocol/task';

export interface TaskSource {
  task: Task;
  /** The file it came from (as given), for messages; absent for an inline command. */
  file?: string;
  /** The file's text, to find lines for issues found later (by fillEnvs or the server). */
  text?: string;
}

export interface EnvInputs {
  /** `--env K=V` arguments, in order; a bare `K` takes K from `environment`. */
  envArgs?: string[];
  envFile?: string;
  environment?: Record<string, string | undefined>;
}

/** Reads and validates a task file; relative workdir and file_mounts sources are taken from the file's folder. */
export function loadTaskFile(file: string): TaskSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClientError('task_file_unreadable', `cannot read the task file ${file}: ${describeFsError(err)}`);
  }
  const task = parseTaskYaml(text, file);
  return { task: resolveLocalPaths(task, dirname(resolve(file)), { file, text }), file, text };
}

/** A task whose run is a command given on the command line (`skydeck launch -c dev 'python train.py'`). */
export function inlineTask(command: string, cwd = process.cwd()): TaskSource {
  return { task: resolveLocalPaths(validateTask({ run: command }), cwd, {}) };
}

/** Fills envs from an env file and then `--env` arguments; missing required envs are reported at their lines. */
export function applyEnvs(source: TaskSource, inputs: EnvInputs): TaskSource {
  const overrides: Record<string, string> = {};
  if (inputs.envFile) {
    let text: string;
    try {
      text = readFileSync(inputs.envFile, 'utf8');
    } catch (err) {
      throw new ClientError('env_file_unreadable', `cannot read the env file ${inputs.envFile}: ${describeFsError(err)}`);
    }
    Object.assign(overrides, parseEnvFile(text, inputs.envFile));
  }
  for (const arg of inputs.envArgs ?? []) {
    const [key, value] = parseEnvArg(arg);
    const resolved = value ?? inputs.environment?.[key];
    if (resolved === undefined) {
      throw new TaskValidationError([{ path: `envs.${key}`, message: `--env ${key} takes its value from your environment, but ${key} is not set there` }]);
    }
    overrides[key] = resolved;
  }
  try {
    return { ...source, task: fillEnvs(source.task, overrides) };
  } catch (err) {
    throw withLines(err, source);
  }
}

/** Adds file and line to issues that lack them (from fillEnvs, or from the server's `task_invalid` details). */
export function withLines(err: unknown, source: TaskSource): unknown {
  if (!(err instanceof TaskValidationError) || !source.text) return err;
  return new TaskValidationError(locateIssues(err.issues, source.text), source.file);
}

/** Issue paths may be relative to the task (`resources.cpus`) or to a request body (`task.resources.cpus`). */
export function locateIssues(issues: readonly TaskIssue[], text: string): TaskIssue[] {
  const lineOf = keyLineFinder(text);
  return issues.map((issue) => {
    if (issue.line !== undefined) return issue;
    const path = issue.path.replace(/^task\./, '');
    // `resources.infra` problems point at `cloud:` when the file uses SkyPilot's older spelling.
    const line = lineOf(path, true) ?? lineOf(path.replace(/\.infra$/, '.cloud'), true) ?? lineOf(path);
    return { ...issue, path, line };
  });
}

/**
 * Finds the line of the key a dotted path names or, unless `exact`, of its deepest key present in the file.
 * Keys may hold dots themselves (file_mounts targets), so each step tries the longest run of segments that is a key.
 */
export function keyLineFinder(text: string): (path: string, exact?: boolean) => number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return (path, exact = false) => {
    const segments = path === '' ? [] : path.split('.');
    let node: unknown = doc.contents;
    let line: number | undefined;
    let i = 0;
    while (i < segments.length && isMap(node)) {
      let matched = false;
      for (let end = segments.length; end > i; end--) {
        const key = segments.slice(i, end).join('.');
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
        if (!pair) continue;
        const offset = (pair.key as YamlNode).range?.[0];
        if (offset !== undefined) line = lineCounter.linePos(offset).line;
        node = pair.value;
        i = end;
        matched = true;
        break;
      }
      if (!matched) break;
    }
    return exact && i < segments.length ? undefined : line;
  };
}

/** A file mount source that names something on this machine (not a bucket or a URL). */
function isLocalSource(source: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

function expandPath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

/** Makes workdir and local file_mounts sources absolute and checks they exist, before anything is submitted. */
function resolveLocalPaths(task: Task, base: string, where: { file?: string; text?: string }): Task {
  const issues: TaskIssue[] = [];
  let workdir = task.workdir;
  if (workdir !== undefined) {
    workdir = expandPath(workdir, base);
    if (!existsSync(workdir) || !statSync(workdir).isDirectory()) issues.push({ path: 'workdir', message: `${workdir} is not a directory` });
  }
  let fileMounts = task.file_mounts;
  if (fileMounts !== undefined) {
    fileMounts = Object.fromEntries(
      Object.entries(fileMounts).map(([target, source]) => {
        if (!isLocalSource(source)) return [target, source];
        const local = expandPath(source, base);
        if (!existsSync(local)) issues.push({ path: `file_mounts.${target}`, message: `${local} does not exist` });
        return [target, local];
      }),
    );
  }
  if (issues.length > 0) throw new TaskValidationError(where.text ? locateIssues(issues, where.text) : issues, where.file);
  return { ...task, ...(workdir === undefined ? {} : { workdir }), ...(fileMounts === undefined ? {} : { file_mounts: fileMounts }) };
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}
