// Recognising task YAML files and finding where a key sits in one (no vscode import).
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';

/** Top-level keys that only a task file is likely to have. */
const TASK_KEYS = /^(run|setup|resources|num_nodes|file_mounts|workdir)\s*:/m;

/** Whether a YAML text reads like a SkyDeck/SkyPilot task (cheap: no full parse). */
export function looksLikeTask(text: string): boolean {
  return TASK_KEYS.test(text);
}

/**
 * The 1-based line of a dotted key path (`resources.cpus`) in a YAML text: the key's own line, or the
 * deepest parent that exists. Undefined when not even the first key is there.
 */
export function lineOfKey(text: string, path: string): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const key of path.split('.').filter(Boolean)) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    const offset = (pair?.key as YamlNode | undefined)?.range?.[0];
    if (!pair || offset === undefined) break;
    line = lineCounter.linePos(offset).line;
    node = pair.value;
  }
  return line;
}
