// What the one task schema says about the keys of a task file, for completion and hover: the keys a
// mapping may hold, each key's documentation and the values it takes. Read from the JSON Schema generated
// from the zod schema (protocol/task.ts), never written twice. No vscode import.
import { taskSchemaAt, UNUSED_SECTIONS, type JsonSchemaNode } from '../../protocol/task';
import type { KeyPath } from './yaml-cursor';

export interface KeyInfo {
  key: string;
  /** The key's own description, else undefined. */
  description?: string;
  /** What its value is written as: `number or string`, `true or false`, `one of: a, b`. */
  type: string;
}

/** The keys a mapping at `parent` may hold (internal `_` keys left out), in the schema's order. */
export function keysAt(parent: KeyPath): KeyInfo[] {
  const seen = new Map<string, JsonSchemaNode[]>();
  for (const node of taskSchemaAt(parent)) {
    for (const [key, sub] of Object.entries(node.properties ?? {})) {
      if (key.startsWith('_')) continue;
      seen.set(key, [...(seen.get(key) ?? []), sub]);
    }
  }
  return [...seen].map(([key, subs]) => info(key, subs));
}

/** One key's documentation as Markdown: its description (or its section's), how its value is written, and whether SkyDeck uses it. */
export function keyDocs(path: KeyPath): string | undefined {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return undefined;
  const found = keysAt(path.slice(0, -1)).find((k) => k.key === key);
  if (!found) return undefined;
  const where = path.filter((p) => typeof p === 'string').join('.');
  const lines = [`**${where}**: ${found.type}`, ''];
  if (found.description) lines.push(found.description);
  else {
    // Nested keys of SkyPilot's sections often carry no text of their own: say what holds them.
    const section = path.slice(0, -1).filter((p) => typeof p === 'string').join('.');
    const holder = nearestDescribedAncestor(path.slice(0, -1));
    lines.push(holder ? `A key of \`${section}\` (${holder})` : `A key of \`${section || 'the task'}\` in SkyPilot's task schema.`);
  }
  const top = typeof path[0] === 'string' ? UNUSED_SECTIONS[path[0]] : undefined;
  if (top) lines.push('', `_SkyDeck parses this and does not act on it: ${top}._`);
  return lines.join('\n');
}

/** The values the schema allows at `path` when it lists them (enums, booleans), for value completion. */
export function valueChoices(path: KeyPath): string[] {
  const nodes = taskSchemaAt(path);
  const out = new Set<string>();
  for (const n of nodes) {
    for (const v of n.enum ?? []) out.add(String(v));
    if (n.const !== undefined) out.add(String(n.const));
    if (n.type === 'boolean' || (Array.isArray(n.type) && n.type.includes('boolean'))) ['true', 'false'].forEach((v) => out.add(v));
  }
  return [...out];
}

function nearestDescribedAncestor(path: KeyPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i];
    if (typeof key !== 'string') continue;
    const description = keysAt(path.slice(0, i)).find((k) => k.key === key)?.description;
    if (description) return `\`${path.slice(0, i + 1).filter((p) => typeof p === 'string').join('.')}\`: ${description}`;
  }
  return undefined;
}

function info(key: string, subs: JsonSchemaNode[]): KeyInfo {
  const nodes = subs.flatMap((s) => [s, ...(s.anyOf ?? []), ...(s.oneOf ?? [])]);
  const description = nodes.find((n) => n.description)?.description;
  return { key, ...(description ? { description } : {}), type: typeOf(nodes) };
}

function typeOf(nodes: JsonSchemaNode[]): string {
  const values = nodes.flatMap((n) => [...(n.enum ?? []), ...(n.const !== undefined ? [n.const] : [])]);
  if (values.length > 0 && nodes.every((n) => n.enum || n.const !== undefined || n.anyOf || n.oneOf)) return `one of: ${[...new Set(values.map(String))].join(', ')}`;
  const names = new Set<string>();
  for (const n of nodes) {
    const types = Array.isArray(n.type) ? n.type : n.type ? [n.type] : [];
    for (const t of types) names.add(t === 'object' ? 'mapping' : t === 'array' ? 'list' : t === 'integer' ? 'integer' : t === 'null' ? 'null (required, given at launch)' : t);
  }
  if (names.has('integer') && names.has('number')) names.delete('integer');
  return names.size > 0 ? [...names].join(' or ') : 'any value';
}
