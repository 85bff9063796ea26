// Where a cursor is in a task YAML file, read from indentation alone: the file being typed is often not
// valid YAML yet, and completion and hover must still know which key they are under (no vscode import).

/** A key path: names of mapping keys, numbers for list items. */
export type KeyPath = (string | number)[];

export interface CursorPlace {
  /** The mapping the cursor is in. */
  parent: KeyPath;
  /** `key`: a key is being typed at this level; `value`: the value of `key` on this line. */
  kind: 'key' | 'value';
  key?: string;
  /** What is typed so far and the column (0-based) where it starts: completions replace from there. */
  prefix: string;
  start: number;
}

export interface KeyUnderCursor {
  path: KeyPath;
  /** Columns (0-based, end exclusive) of the key's text on its line. */
  start: number;
  end: number;
}

/** `  - name: value`: indent, an optional list dash, a key, the rest. Keys may be quoted or hold dots (file_mounts). */
const KEY_LINE = /^(\s*)(-\s+)?("[^"]*"|'[^']*'|[^\s#'"][^:#]*?)\s*:(?=\s|$)(.*)$/;
const DASH_ONLY = /^(\s*)-(\s+|$)/;
const DOCUMENT_MARKER = /^(---|\.\.\.)(\s|$)/;

/** Where the cursor at (line, character), both 0-based, is. */
export function cursorPlace(lines: readonly string[], line: number, character: number): CursorPlace | undefined {
  const before = (lines[line] ?? '').slice(0, character);
  if (DOCUMENT_MARKER.test(before) || /^\s*#/.test(before)) return undefined;
  const asKey = /^(\s*)(-\s+)?([^\s:#]*)$/.exec(before);
  if (asKey) {
    const keyColumn = asKey[1]!.length + (asKey[2]?.length ?? 0);
    return { parent: parentOf(lines, line, asKey[1]!.length, asKey[2] !== undefined, keyColumn), kind: 'key', prefix: asKey[3]!, start: keyColumn };
  }
  const asValue = KEY_LINE.exec(before);
  if (!asValue) return undefined;
  const indent = asValue[1]!.length;
  const dash = asValue[2];
  const keyColumn = indent + (dash?.length ?? 0);
  const rest = asValue[4]!;
  const typed = /^\s*(.*)$/.exec(rest)![1]!;
  return {
    parent: parentOf(lines, line, indent, dash !== undefined, keyColumn),
    kind: 'value',
    key: unquote(asValue[3]!),
    prefix: typed,
    start: character - typed.length,
  };
}

/** The key whose text the cursor is on, with its full path. */
export function keyUnderCursor(lines: readonly string[], line: number, character: number): KeyUnderCursor | undefined {
  const m = KEY_LINE.exec(lines[line] ?? '');
  if (!m) return undefined;
  const indent = m[1]!.length;
  const start = indent + (m[2]?.length ?? 0);
  const end = start + m[3]!.length;
  if (character < start || character > end) return undefined;
  return { path: [...parentOf(lines, line, indent, m[2] !== undefined, start), unquote(m[3]!)], start, end };
}

/**
 * The path of the mapping holding a key written at `keyColumn` on `line` (after a list dash at `indent` when
 * `dashed`): walks up to the lines indented less, each one a parent key or a list item.
 */
function parentOf(lines: readonly string[], line: number, indent: number, dashed: boolean, keyColumn: number): KeyPath {
  const path: KeyPath = dashed ? [0] : [];
  let want = dashed ? indent : keyColumn;
  for (let i = line - 1; i >= 0 && want > 0; i--) {
    const text = lines[i]!;
    if (DOCUMENT_MARKER.test(text)) break;
    if (/^\s*(#.*)?$/.test(text)) continue;
    const key = KEY_LINE.exec(text);
    const dash = key ? (key[2] !== undefined ? key[1]!.length : undefined) : DASH_ONLY.exec(text)?.[1]!.length;
    const column = key ? key[1]!.length + (key[2]?.length ?? 0) : undefined;
    if (column !== undefined && column < want) {
      // A key indented less holds what is below it (a list item's own key, then the item itself).
      path.unshift(unquote(key![3]!));
      if (dash !== undefined) path.unshift(0);
      want = dash ?? column;
    } else if (dash !== undefined && dash < want) {
      // A sibling key of this list item (`- a: 1` above `  b: 2`), or a bare dash opening it.
      path.unshift(0);
      want = dash;
    } else if (column === undefined && dash === undefined && text.search(/\S/) < want) {
      // A plain scalar indented less (a block scalar's text, a broken line): nothing holds us through it.
      break;
    }
  }
  return path;
}

function unquote(key: string): string {
  return /^(["']).*\1$/.test(key) ? key.slice(1, -1) : key;
}
