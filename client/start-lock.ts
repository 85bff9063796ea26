// A lock file held while one client starts the local server: created with O_EXCL, broken when its owner is gone.
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LockOwner {
  pid: number;
  createdAt: number;
}

export interface LockPolicy {
  /** A lock older than this is stale even if its pid is alive (the pid may have been reused). */
  maxAgeMs: number;
  /** An empty or unreadable lock this old is stale (its creator died between creating and writing it). */
  unreadableGraceMs: number;
  isAlive: (pid: number) => boolean;
}

export const DEFAULT_LOCK_POLICY: LockPolicy = { maxAgeMs: 60_000, unreadableGraceMs: 2_000, isAlive: isProcessAlive };

export class FileLock {
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {}

  /** Removes the lock if it is still ours. */
  release(): void {
    const current = readOwner(this.path);
    if (current && sameOwner(current, this.owner)) rmSync(this.path, { force: true });
  }
}

/** Takes the lock if it is free or stale; undefined when a live owner holds it. */
export function tryLock(path: string, policy: LockPolicy = DEFAULT_LOCK_POLICY, now = Date.now()): FileLock | undefined {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    const owner = { pid: process.pid, createdAt: now };
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readOwner(path);
      if (!isStale(path, holder, policy, now)) return undefined;
      breakStaleLock(path, holder);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    return new FileLock(path, owner);
  }
  return undefined;
}

export function isStale(path: string, holder: LockOwner | undefined, policy: LockPolicy, now: number): boolean {
  if (!holder) {
    try {
      return now - statSync(path).mtimeMs > policy.unreadableGraceMs;
    } catch {
      return true;
    }
  }
  return !policy.isAlive(holder.pid) || now - holder.createdAt > policy.maxAgeMs;
}

/**
 * Moves the stale lock aside before deleting it, so that of two clients breaking it at once, the second cannot
 * delete the fresh lock the first has just taken: if what it moved aside is not the stale lock it saw, it puts it back.
 */
function breakStaleLock(path: string, seen: LockOwner | undefined): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  const isTheStaleOne = seen ? moved !== undefined && sameOwner(moved, seen) : moved === undefined;
  if (!isTheStaleOne) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone took the lock meanwhile; theirs stands.
    }
  }
  rmSync(aside, { force: true });
}

export function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return Number.isInteger(parsed.pid) && typeof parsed.createdAt === 'number' ? { pid: parsed.pid!, createdAt: parsed.createdAt } : undefined;
  } catch {
    return undefined;
  }
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.createdAt === b.createdAt;
}

/**
 * Signal 0 checks existence (EPERM: it exists but belongs to someone else). A zombie also exists, and lingers
 * where nothing reaps orphans (a container without an init), so on Linux its state is checked too.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // Without procfs, signal 0 is all there is; with it, a missing entry means the process just went away.
    return !existsSync('/proc/self/stat');
  }
}
