// Files only the server's OS user may read (users, tokens, the local token): written whole and
// atomically with mode 0600, and re-read when they change so edits take effect on the next call.
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from '../errors';

/** Replaces the file (or, with `exclusive`, creates it only if absent and says whether it did). */
export function writeOwnerFile(file: string, text: string, exclusive = false): boolean {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, text, { mode: 0o600, flag: 'wx' });
    if (!exclusive) {
      renameSync(aside, file);
      return true;
    }
    try {
      linkSync(aside, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Group or other may read or write it: the server says so rather than trusting such a file. */
export function looseMode(file: string): number | undefined {
  const mode = statSync(file).mode & 0o777;
  return (mode & 0o077) !== 0 ? mode : undefined;
}

/** Tightens a file to 0600 when it is ours and looser (a copy made with cp, a restored backup). */
export function tightenMode(file: string): void {
  if (looseMode(file) !== undefined) chmodSync(file, 0o600);
}

/**
 * A JSON file parsed on first use and again whenever its inode, size or mtime changes (an atomic
 * rename gives a new inode), so a running server sees `skydeck users add` and `tokens revoke` at
 * once. A stat per check costs microseconds. A file that turns unreadable keeps the last good value.
 */
export class WatchedFile<T> {
  private stamp = '';
  private value: T;

  constructor(
    readonly file: string,
    private readonly parse: (json: unknown) => T,
    private readonly empty: T,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.value = empty;
  }

  /** The current contents; throws only when the first read finds a broken file. */
  current(): T {
    let stamp: string;
    try {
      const s = statSync(this.file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.stamp) return this.value;
    const first = this.stamp === '';
    try {
      this.value = stamp === 'missing' ? this.empty : this.parse(JSON.parse(readFileSync(this.file, 'utf8')));
      this.stamp = stamp;
    } catch (err) {
      const message = `${this.file}: ${(err as Error).message}`;
      if (first) throw fail.config_invalid(message);
      this.onError(`${message}; keeping the previous contents`);
      this.stamp = stamp;
    }
    return this.value;
  }
}
