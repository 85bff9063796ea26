// The local server's token, as a client of the same OS user reads it: <SKYDECK_HOME>/server/local-token.
// Made here when missing (exclusively, mode 0600) so that a client which starts the server already
// holds the token the server will use; the server keeps an existing token.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homePaths } from '../home';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const localTokenPath = (home: string) => join(homePaths(home).serverDir, 'local-token');

export function readLocalToken(home: string): string | undefined {
  try {
    const text = readFileSync(localTokenPath(home), 'utf8').trim();
    return TOKEN.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The token, created if there is none yet; undefined when the file cannot be read or made. */
export function ensureLocalToken(home: string): string | undefined {
  const existing = readLocalToken(home);
  if (existing) return existing;
  const path = localTokenPath(home);
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(aside, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(aside, path);
  } catch {
    // Another client or the server made it first, or the folder is not ours: read what is there.
  } finally {
    rmSync(aside, { force: true });
  }
  return readLocalToken(home);
}
