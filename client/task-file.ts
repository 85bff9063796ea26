// Turns a task file (or an inline command) into the task a client submits: validated, local paths made absolute,
// envs filled; and maps issues the server reports back to lines of the file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ClientError } from './errors';
import type { Task } from '../protocol/task';
import { TaskValidationError, type TaskIssue } from '../protocol/task-issues';
import { fillEnvValues, isLocalSource, parseEnvArg, parseEnvFile, substituteEnvs } from '../protocol/task-model';
import { locateIssues, parseTaskDocuments, parseTaskYaml, validateTask } from './validation';

export interface TaskSource {
  task: Task;
  /** The file it came from (as given), for messages; absent for an inline command. */
  file?: string;
  /** The file's text, to find lines for issues found later (by fillEnvs or the server). */
  text?: string;
  /** The task as parsed, before env references were filled and paths resolved: applyEnvs starts again from it. */
  parsed?: Task;
  /** The folder relative paths are taken from. */
  base?: string;
}

export interface EnvInputs {
  /** `--env K=V` arguments, in order; a bare `K` takes K from `environment`. */
  envArgs?: string[];
  envFile?: string;
  /** `--secret K=V` arguments; a bare `K` takes K from `environment`. */
  secretArgs?: string[];
  secretFile?: string;
  environment?: Record<string, string | undefined>;
}

/**
 * Reads and validates a task file; relative workdir and file_mounts sources are taken from the file's folder.
 * `parse` is parseTaskYaml, or a cache of its answers (the CLI's, client/cli/task-cache.ts).
 */
export function loadTaskFile(file: string, parse: (text: string, file: string) => Task = parseTaskYaml): TaskSource {
  const text = readTaskFile(file);
  return fromParsed(parse(text, file), dirname(resolve(file)), { file, text });
}

/**
 * Reads a task file that may be a chain of tasks (a managed job's pipeline: YAML documents separated by
 * `---`, optionally headed by a `name:` document). A one-task file keeps its text, for issue lines.
 */
export function loadTaskChain(file: string): { name?: string; sources: TaskSource[] } {
  const text = readTaskFile(file);
  const chain = parseTaskDocuments(text, file);
  const where = chain.tasks.length === 1 ? { file, text } : { file };
  return { name: chain.name, sources: chain.tasks.map((task) => fromParsed(task, dirname(resolve(file)), where)) };
}

function readTaskFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClientError('task_file_unreadable', `cannot read the task file ${file}: ${describeFsError(err)}`);
  }
}

/** A task whose run is a command given on the command line (`skydeck launch -c dev 'python train.py'`). */
export function inlineTask(command: string, cwd = process.cwd()): TaskSource {
  return fromParsed(validateTask(command === '' ? {} : { run: command }), cwd, {});
}

/** A parsed task with its env references filled from its own values (overrides come with applyEnvs) and paths resolved. */
export function fromParsed(parsed: Task, base: string, where: { file?: string; text?: string }): TaskSource {
  const own = substituteEnvs(parsed, { ...parsed.envs, ...parsed.secrets });
  return { task: resolveLocalPaths(own, base, where), parsed, base, ...where };
}

/**
 * Fills envs and secrets from their files and then `--env` / `--secret` arguments (SkyPilot's order), fills
 * `${VAR}` references with the result, and resolves paths again; missing required envs are reported at their lines.
 */
export function applyEnvs(source: TaskSource, inputs: EnvInputs): TaskSource {
  const envs = { ...readEnvFile(inputs.envFile), ...fromArgs(inputs.envArgs, '--env', 'envs', inputs.environment) };
  const secrets = { ...readEnvFile(inputs.secretFile), ...fromArgs(inputs.secretArgs, '--secret', 'secrets', inputs.environment) };
  try {
    const fill = fillEnvValues(source.parsed ?? source.task, envs, secrets);
    const filled = fill.recheck ? validateTask(fill.task) : fill.task;
    return { ...source, task: source.base === undefined ? filled : resolveLocalPaths(filled, source.base, source) };
  } catch (err) {
    throw withLines(err, source);
  }
}

function readEnvFile(file: string | undefined): Record<string, string> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClientError('env_file_unreadable', `cannot read the env file ${file}: ${describeFsError(err)}`);
  }
  return parseEnvFile(text, file);
}

function fromArgs(args: string[] | undefined, flag: string, section: string, environment: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args ?? []) {
    const [key, value] = parseEnvArg(arg, flag, section);
    const resolved = value ?? environment?.[key];
    if (resolved === undefined) {
      throw new TaskValidationError([{ path: `${section}.${key}`, message: `${flag} ${key} takes its value from your environment, but ${key} is not set there` }]);
    }
    out[key] = resolved;
  }
  return out;
}

/** Adds file and line to issues that lack them (from fillEnvs, or from the server's `task_invalid` details). */
export function withLines(err: unknown, source: TaskSource): unknown {
  if (!(err instanceof TaskValidationError) || !source.text) return err;
  return new TaskValidationError(locateIssues(err.issues, source.text), source.file);
}

/** `~` is the home folder; a relative path is taken from `base`. */
export function expandPath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

/**
 * Makes workdir and local file_mounts sources (plain or in storage mappings) absolute and checks they
 * exist, before anything is submitted. Paths that still hold an unfilled `${VAR}` wait for applyEnvs.
 */
function resolveLocalPaths(task: Task, base: string, where: { file?: string; text?: string }): Task {
  const issues: TaskIssue[] = [];
  const local = (path: string, key: string, kind: 'dir' | 'any'): string => {
    if (!isLocalSource(path) || /\$\{?[A-Za-z_]/.test(path)) return path;
    const abs = expandPath(path, base);
    if (kind === 'dir' && !(existsSync(abs) && statSync(abs).isDirectory())) issues.push({ path: key, message: `${abs} is not a directory` });
    else if (!existsSync(abs)) issues.push({ path: key, message: `${abs} does not exist` });
    return abs;
  };
  let workdir = task.workdir;
  if (typeof workdir === 'string') workdir = local(workdir, 'workdir', 'dir');
  // A git workdir given as a path on this machine is cloned from where it is.
  else if (workdir !== undefined && /^(\.{0,2}\/|~)/.test(workdir.url)) workdir = { ...workdir, url: expandPath(workdir.url, base) };
  let fileMounts = task.file_mounts;
  if (fileMounts !== undefined) {
    fileMounts = Object.fromEntries(
      Object.entries(fileMounts).map(([target, mount]) => {
        const key = `file_mounts.${target}`;
        if (typeof mount === 'string') return [target, local(mount, key, 'any')];
        if (mount.source === undefined) return [target, mount];
        const source = Array.isArray(mount.source) ? mount.source.map((s) => local(s, `${key}.source`, 'any')) : local(mount.source, `${key}.source`, 'any');
        return [target, { ...mount, source }];
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
