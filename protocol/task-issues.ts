// What is wrong with a task, key by key: the error every side throws for a task that does not validate.
// Apart from the schema (zod, yaml) so that code which only reports task errors (the CLI's error
// printer, shared by all its command bundles) does not load the schema.

export interface TaskIssue {
  /** Key path, such as `resources.cpus` or `envs.TOKEN`. */
  path: string;
  message: string;
  /** 1-based line in the task file, when the task came from a file. */
  line?: number;
}

export class TaskValidationError extends Error {
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

