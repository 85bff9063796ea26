// The task files this CLI validated before, by their exact text: a repeated `launch` or `exec` of the same
// file takes the validated task from here and never loads dist/cli-validation.js, the bundle of yaml and
// zod that parsing needs (issue 8: compiling and running them was most of a `launch --dryrun`).
//
// Kept beside the compiled bundles in the private code-cache folder, under the same rules as they are
// (client/cli/bundle-loader.ts): an entry is used only from a folder no other user can write to, and a
// missing, stale (another build), corrupt or foreign one is ignored and rewritten; a home that cannot be
// written just means parsing each time. An entry holds the text it was made from, so a hit is the same
// file, never only the same hash. Only tasks that validated are kept: a file with errors is parsed again
// and reported at its lines each time.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { VERSION } from '../../protocol/build-info';
import type { Task } from '../../protocol/task';
import { untrustedFolder } from '../../shared/private-folder';
import { homePaths, skydeckHome } from '../home';
import { parseTaskYaml } from '../validation';

/** Entries kept; the oldest go when a new one would pass it. */
export const TASK_CACHE_ENTRIES = 64;

interface Entry {
  build: string;
  text: string;
  task: Task;
}

export interface TaskCacheOptions {
  /** The folder entries are kept in (the home's code-cache folder). */
  dir?: string;
  /**
   * Which validator made an entry: this build's version and its dist/cli-validation.js (size and time).
   * Undefined (run from sources, no bundle beside this one) keeps nothing.
   */
  build?: string;
}

/** parseTaskYaml(text, file), answered from the cache when this build validated the same text before. */
export function cachedParse(text: string, file: string, options: TaskCacheOptions = {}): Task {
  const build = 'build' in options ? options.build : validatorBuild();
  if (build === undefined) return parseTaskYaml(text, file);
  const dir = options.dir ?? homePaths(skydeckHome()).codeCache;
  // Named by the build too: two installs that share a home (an editor's and a terminal's) keep their own.
  const entryFile = path.join(dir, `task-${hex(crc32(text))}-${hex(crc32(build))}.v8`);
  const hit = readEntry(entryFile, build, text);
  if (hit) return hit;
  const task = parseTaskYaml(text, file);
  writeEntry(dir, entryFile, { build, text, task });
  return task;
}

const hex = (n: number) => n.toString(16).padStart(8, '0');

function validatorBuild(): string | undefined {
  const bundle = path.join(__dirname, 'cli-validation.js');
  try {
    const { size, mtimeMs } = statSync(bundle);
    return `${VERSION}:${size}:${mtimeMs}`;
  } catch {
    return undefined;
  }
}

function readEntry(entryFile: string, build: string, text: string): Task | undefined {
  // A validated task is taken as it is found: it is read only from a folder no other user can write to.
  if (untrustedFolder(path.dirname(entryFile)) || !existsSync(entryFile)) return undefined;
  try {
    const entry = deserialize(readFileSync(entryFile)) as Partial<Entry> | null;
    return entry?.build === build && entry.text === text && typeof entry.task === 'object' && entry.task !== null ? entry.task : undefined;
  } catch {
    return undefined; // corrupt or cut short: parsed again and rewritten
  }
}

function writeEntry(dir: string, entryFile: string, entry: Entry): void {
  const aside = `${entryFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (untrustedFolder(dir)) return;
    prune(dir);
    writeFileSync(aside, serialize(entry), { mode: 0o600 });
    // A reader sees the old entry or the new one, never half of one.
    renameSync(aside, entryFile);
  } catch {
    // An unwritable or full home: the next run parses again.
    rmSync(aside, { force: true });
  }
}

/** Makes room for one more entry by removing the least recently written ones. */
function prune(dir: string): void {
  const entries = readdirSync(dir).filter((f) => /^task-[0-9a-f]{8}-[0-9a-f]{8}\.v8$/.test(f));
  if (entries.length < TASK_CACHE_ENTRIES) return;
  const byAge = entries.map((f) => ({ f, t: statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of byAge.slice(0, entries.length - TASK_CACHE_ENTRIES + 1)) rmSync(path.join(dir, f), { force: true });
}
