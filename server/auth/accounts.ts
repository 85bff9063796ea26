// The users file and the service-account tokens file of a team server, both in its data dir.
// Users have scrypt password hashes; tokens are stored only as SHA-256 hashes of their secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import * as z from 'zod';
import type { User } from '../../protocol/model';
import type { Role } from './identity';
import { isPasswordHash } from './passwords';
import { fail } from '../errors';

export const ROLES = ['admin', 'user'] as const satisfies readonly Role[];

/** Login names ride in Basic credentials and in tables: no colon, no spaces, no control characters. */
export const LOGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const LOGIN_NAME_RULE = '1-64 letters, digits and . _ @ -, starting with a letter or digit';

const userEntry = z.strictObject({
  name: z.string().regex(LOGIN_NAME),
  role: z.enum(ROLES),
  password: z.string().refine(isPasswordHash, 'not a scrypt password hash'),
  createdAt: z.number(),
});
export type UserEntry = z.output<typeof userEntry>;
const usersFile = z.strictObject({ users: z.array(userEntry) });

const tokenEntry = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  name: z.string().regex(LOGIN_NAME),
  role: z.enum(ROLES),
  /** SHA-256 of the secret part, hex. The secret itself is shown once, when it is created. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number(),
  expiresAt: z.number().optional(),
});
export type TokenEntry = z.output<typeof tokenEntry>;
const tokensFile = z.strictObject({ tokens: z.array(tokenEntry) });

export function accountFiles(dataDir: string) {
  return { users: path.join(dataDir, 'users.json'), tokens: path.join(dataDir, 'tokens.json') };
}

/** A schema's issues as `key.path: message` lines, for a file a person edits. */
function readable(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(file)'}: ${i.message}`).join('; ');
}

export function parseUsers(json: unknown): UserEntry[] {
  const parsed = usersFile.safeParse(json);
  if (!parsed.success) throw fail.config_invalid(readable(parsed.error.issues));
  const users = parsed.data.users;
  const names = new Set<string>();
  for (const u of users) {
    if (names.has(u.name.toLowerCase())) throw fail.config_invalid(`user ${u.name} is listed twice`);
    names.add(u.name.toLowerCase());
  }
  return users;
}

export function parseTokens(json: unknown): TokenEntry[] {
  const parsed = tokensFile.safeParse(json);
  if (!parsed.success) throw fail.config_invalid(readable(parsed.error.issues));
  return parsed.data.tokens;
}

export const usersText = (users: readonly UserEntry[]) => JSON.stringify({ users }, null, 2) + '\n';
export const tokensText = (tokens: readonly TokenEntry[]) => JSON.stringify({ tokens }, null, 2) + '\n';

/**
 * A stable 8-hex id per account, so a user removed and added again still owns their clusters. Users
 * and service accounts live in different namespaces: a token named like a user is not that user.
 */
export function accountUser(kind: 'user' | 'token', name: string): User {
  return { id: createHash('sha256').update(`skydeck-${kind}:${name.toLowerCase()}`).digest('hex').slice(0, 8), name };
}

const TOKEN_FORMAT = /^skdk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export function newToken(): { id: string; secret: string; token: string; sha256: string } {
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `skdk_${id}_${secret}`, sha256: sha256Hex(secret) };
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

export type TokenCheck = { ok: true; entry: TokenEntry } | { ok: false; reason: string };

/** Finds the token's entry and checks its secret and its expiry (at `now`, so expiry needs no sweep). */
export function checkToken(tokens: readonly TokenEntry[], token: string, now = Date.now()): TokenCheck {
  const m = TOKEN_FORMAT.exec(token);
  if (!m) return { ok: false, reason: 'not a SkyDeck token' };
  const entry = tokens.find((t) => t.id === m[1]);
  const actual = Buffer.from(sha256Hex(m[2]!), 'hex');
  if (!entry || !timingSafeEqual(actual, Buffer.from(entry.sha256, 'hex'))) return { ok: false, reason: 'unknown or revoked token' };
  if (entry.expiresAt !== undefined && entry.expiresAt <= now) return { ok: false, reason: `token ${entry.name} expired at ${new Date(entry.expiresAt).toISOString()}` };
  return { ok: true, entry };
}
