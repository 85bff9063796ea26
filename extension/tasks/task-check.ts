// The problems of a task file as it is typed: what `skydeck launch` would say about it, in the CLI's words,
// from the same parser and schema (protocol/task.ts) and the same file checks (client/task-file.ts), plus
// what the connected server would refuse (an infra it has not enabled). No vscode import: unit-tested as is.
import type { InfraStatus } from '../../protocol/infra';
import { infraNotEnabledMessage } from '../../protocol/infra-refusal';
import { fillEnvs, parseTaskYaml, resourceCandidates, TaskValidationError, type Task, type TaskIssue } from '../../protocol/task';
import { fromParsed } from '../../client/task-file';
import { locateIssues } from '../../client/task-lines';

export type ProblemKind = 'invalid' | 'unknown-key' | 'env-required' | 'infra-not-enabled';

export interface TaskProblem {
  kind: ProblemKind;
  /** Key path as the CLI prints it (`resources.cpus`). */
  path: string;
  message: string;
  /** 1-based line, when the problem has a place in the file. */
  line?: number;
  /** For a misspelt key: the key it most likely meant, as the message's "did you mean" names it. */
  suggestion?: string;
}

export interface ServerFacts {
  /** What `GET /api/infra` (`skydeck check`, the infra inventory) answered. */
  infra?: readonly InfraStatus[];
}

export interface CheckOptions {
  /** The file's folder, for relative workdir and file_mounts sources; absent for unsaved files. */
  base?: string;
  server?: ServerFacts;
}

/** Everything `skydeck launch FILE` would refuse, or ask for, in this text. */
export function checkTaskText(text: string, options: CheckOptions = {}): TaskProblem[] {
  let task: Task;
  try {
    task = parseTaskYaml(text);
    if (options.base !== undefined) task = fromParsed(task, options.base, { text }).task;
  } catch (err) {
    if (err instanceof TaskValidationError) return problems(err.issues, text, 'invalid');
    throw err;
  }
  const out: TaskProblem[] = [];
  try {
    fillEnvs(task);
  } catch (err) {
    if (!(err instanceof TaskValidationError)) throw err;
    out.push(...problems(err.issues, text, 'env-required'));
  }
  if (options.server?.infra) out.push(...problems(infraRefusals(task, options.server.infra), text, 'infra-not-enabled'));
  return out;
}

function problems(issues: readonly TaskIssue[], text: string, kind: ProblemKind): TaskProblem[] {
  return locateIssues(issues, text).map((issue) => {
    // The parser words a misspelt key as "unknown key; did you mean X?": the quick fix offers that X.
    const unknown = /^unknown key(?:; did you mean ([^?\s]+)\?)?/.exec(issue.message);
    return {
      kind: unknown ? 'unknown-key' : kind,
      path: issue.path,
      message: issue.message,
      ...(issue.line !== undefined ? { line: issue.line } : {}),
      ...(unknown?.[1] ? { suggestion: unknown[1] } : {}),
    };
  });
}

/** The server's refusal for each infra the task names whose kind the server has not turned on. */
function infraRefusals(task: Task, infra: readonly InfraStatus[]): TaskIssue[] {
  const kinds = [...new Set(infra.map((i) => i.infra.split('/')[0]!))];
  const enabledKinds = [...new Set(infra.filter((i) => i.enabled).map((i) => i.infra.split('/')[0]!))];
  const { candidates } = resourceCandidates(task.resources);
  const issues: TaskIssue[] = [];
  candidates.forEach((candidate, index) => {
    const named = candidate.infra;
    if (named === undefined || named.startsWith('*')) return;
    const kind = named.split('/')[0]!;
    if (enabledKinds.includes(kind)) return;
    const off = infra.find((i) => i.infra === kind);
    const reason = off?.reason ?? `SkyDeck runs tasks on ${kinds.join(', ')}`;
    const hint = off ? off.hint : 'name one of those in resources.infra';
    const list = task.resources?.any_of ? 'any_of' : task.resources?.ordered ? 'ordered' : undefined;
    const path = list && candidates.length > 1 ? `resources.${list}.${index}.infra` : 'resources.infra';
    issues.push({ path, message: infraNotEnabledMessage(named, enabledKinds, reason, hint) });
  });
  return issues;
}

/** Columns (0-based, end exclusive) a problem on its line is shown at: the key itself when it is unknown, else its value. */
export function problemColumns(lineText: string, problem: Pick<TaskProblem, 'path' | 'kind'>): { start: number; end: number } {
  const key = problem.path.split('.').pop() ?? '';
  const keyLine = /^(\s*(?:-\s+)?)(["']?)([^:#]*?)\2\s*:(?=\s|$)\s*(.*?)\s*(#.*)?$/.exec(lineText);
  const content = { start: lineText.search(/\S|$/), end: lineText.trimEnd().length };
  if (!keyLine) return content.end > content.start ? content : { start: 0, end: lineText.length };
  const keyStart = keyLine[1]!.length;
  const keyEnd = keyStart + keyLine[2]!.length * 2 + keyLine[3]!.length;
  const value = keyLine[4]!;
  const aboutTheKey = problem.kind === 'unknown-key' || problem.kind === 'env-required';
  if (aboutTheKey || keyLine[3] !== key || value === '' || /^[|>]/.test(value)) return { start: keyStart, end: keyEnd };
  const valueStart = lineText.indexOf(value, keyEnd);
  return { start: valueStart, end: valueStart + value.length };
}
