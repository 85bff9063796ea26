// The local server's token: a random secret in <data-dir>/local-token that only the owner can read.
// Clients of the same OS user read it and send it as a bearer token; other users on the machine
// cannot, so they cannot drive a server that runs shell commands as its owner.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { tightenMode, writeOwnerFile } from './owner-file';
import { fail } from '../errors';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const localTokenFile = (dataDir: string) => path.join(dataDir, 'local-token');

/**
 * Reads the token, creating it the first time. It survives restarts, so a client that read it before
 * the server restarted keeps working. A token file owned by someone else is refused outright.
 */
export function loadLocalToken(dataDir: string): string {
  const file = localTokenFile(dataDir);
  let text: string | undefined;
  try {
    const owner = statSync(file).uid;
    if (typeof process.getuid === 'function' && owner !== process.getuid()) {
      throw fail.config_invalid(`${file} belongs to uid ${owner}, not to this server's user; remove it`);
    }
    tightenMode(file);
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined && TOKEN.test(text)) return text;
  const token = randomBytes(32).toString('base64url');
  // A damaged file is replaced; a missing one is created only if no client or server made it meanwhile.
  if (writeOwnerFile(file, `${token}\n`, text === undefined)) return token;
  return readFileSync(file, 'utf8').trim();
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
