// Where a key of a task file is written: the line an issue is reported at when it was found without one
// (by the server, by env filling, by a check of local paths).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { TaskIssue } from '../protocol/task-issues';

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
    while (i < segments.length && (isMap(node) || isSeq(node))) {
      if (isSeq(node)) {
        // A list item (any_of.0): its line is where the item starts.
        const item = /^\d+$/.test(segments[i]!) ? (node.items[Number(segments[i])] as YamlNode | undefined) : undefined;
        if (!item) break;
        if (item.range) line = lineCounter.linePos(item.range[0]).line;
        node = item;
        i++;
        continue;
      }
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
