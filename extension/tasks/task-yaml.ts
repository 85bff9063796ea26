// Recognising task YAML files without parsing them (no vscode import).

/** The top-level keys that make a YAML file a task file by default (the `skydeck.taskFiles.topLevelKeys` setting). */
export const DEFAULT_TASK_KEYS = ['run', 'setup', 'resources'];

/** Whether a YAML text has one of `keys` at the top level (cheap: a line scan, no parse). */
export function looksLikeTask(text: string, keys: readonly string[] = DEFAULT_TASK_KEYS): boolean {
  if (keys.length === 0) return false;
  const escaped = keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(${escaped.join('|')})\\s*:`, 'm').test(text);
}
