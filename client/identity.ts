// Who this client says it is: an 8-hex-digit user hash made once per SKYDECK_HOME, and the OS user name.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { USER_ID } from '../protocol/wire';
import type { User } from '../protocol/model';
import { ClientError } from './errors';
import { homePaths, type Env } from './home';

/** SKYDECK_USER_ID / SKYDECK_USER when set, else the stored user hash and the OS user name. */
export function resolveIdentity(home: string, env: Env = process.env): User {
  const idOverride = env.SKYDECK_USER_ID?.trim();
  if (idOverride && !USER_ID.test(idOverride)) {
    throw new ClientError('identity_invalid', `SKYDECK_USER_ID must be 8 lowercase hex digits, got ${JSON.stringify(idOverride)}`);
  }
  return {
    id: idOverride || userHash(homePaths(home).userHash),
    name: env.SKYDECK_USER?.trim() || osUserName(env),
  };
}

/**
 * Reads the user hash, creating it the first time. The new hash is written aside and linked into place,
 * which fails if the file exists, so two clients starting at once agree on one complete hash.
 */
export function userHash(path: string): string {
  const existing = readHash(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true });
  const fresh = randomBytes(4).toString('hex');
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, `${fresh}\n`, { mode: 0o600 });
  try {
    linkSync(aside, path);
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = readHash(path);
    if (raced) return raced;
    // The file exists but holds no valid hash: replace it.
    renameSync(aside, path);
    return fresh;
  } finally {
    rmSync(aside, { force: true });
  }
}

function readHash(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return USER_ID.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

function osUserName(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to what the shell says.
    return env.USER || env.LOGNAME || 'unknown';
  }
}
