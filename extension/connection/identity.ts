// Who this client says it is to a server that trusts claims (the local one): the same id as the CLI.
// TODO(client): client/ will own identity; this moves there once it lands.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { USER_ID } from '../../protocol/api';
import type { User } from '../../protocol/model';

/** SKYDECK_USER_ID / SKYDECK_USER, else SKYDECK_HOME/user_hash (created once) and the OS user name. */
export function localIdentity(home: string, env: NodeJS.ProcessEnv = process.env): User {
  const name = env.SKYDECK_USER || safeUserName();
  if (env.SKYDECK_USER_ID && USER_ID.test(env.SKYDECK_USER_ID)) return { id: env.SKYDECK_USER_ID, name };
  const file = join(home, 'user_hash');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (USER_ID.test(id)) return { id, name };
  } catch {
    // not there yet: create it below
  }
  const id = randomBytes(4).toString('hex');
  mkdirSync(home, { recursive: true });
  // `wx` loses cleanly to a CLI that wrote its hash a moment earlier; then use that one.
  try {
    writeFileSync(file, id + '\n', { flag: 'wx', mode: 0o600 });
    return { id, name };
  } catch {
    const existing = readFileSync(file, 'utf8').trim();
    return { id: USER_ID.test(existing) ? existing : id, name };
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
