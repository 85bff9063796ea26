// Recognising task YAML files without parsing them (no vscode import).

/** Top-level keys that only a task file is likely to have. */
const TASK_KEYS = /^(run|setup|resources|num_nodes|file_mounts|workdir)\s*:/m;

/** Whether a YAML text reads like a SkyDeck/SkyPilot task (cheap: no full parse). */
export function looksLikeTask(text: string): boolean {
  return TASK_KEYS.test(text);
}

