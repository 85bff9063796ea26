// Dashboard sessions and one-time sign-in links. A session id is 32 random bytes that reach the browser
// once, in an HttpOnly cookie; the server keeps only their SHA-256, so nothing it holds or logs opens a
// session. Sessions live in memory (a restart signs browsers out) and expire; each use checks that the
// account behind it is unchanged (ServerAuthenticator), so removing a user or changing a role or
// password ends their sessions at once.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from './identity';

export const SESSION_COOKIE = 'skydeck_session';
/** Absolute lifetime of a session, however active. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** A one-time link from `skydeck dashboard` must be opened within this. */
export const LINK_TTL_MS = 30_000;
const MAX_SESSIONS = 10_000;
const MAX_LINKS = 1_000;

/** The account a session stands for, and what must still hold for it to be valid. */
export type SessionAccount =
  /** A local server's owner (no accounts): valid while the server has no accounts. */
  | { kind: 'local' }
  /** `stamp`: a fingerprint of the password hash, so a password reset ends the session. */
  | { kind: 'user'; name: string; stamp: string }
  | { kind: 'token'; tokenId: string };

export interface Session {
  principal: Principal;
  account: SessionAccount;
  createdAt: number;
  expiresAt: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const secret = () => randomBytes(32).toString('base64url');

export class SessionStore {
  /** By the SHA-256 of the id. Map order is creation order, so the oldest is dropped first when full. */
  private readonly sessions = new Map<string, Session>();
  private readonly links = new Map<string, Session>();

  constructor(private readonly ttlMs = SESSION_TTL_MS) {}

  create(principal: Principal, account: SessionAccount, now = Date.now()): { id: string; session: Session } {
    this.sweep(now);
    const id = secret();
    const session: Session = { principal, account, createdAt: now, expiresAt: now + this.ttlMs };
    this.sessions.set(sha256(id), session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return { id, session };
  }

  get(id: string, now = Date.now()): Session | undefined {
    const key = sha256(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= now) this.sessions.delete(key);
    return session && session.expiresAt > now ? session : undefined;
  }

  revoke(id: string): boolean {
    return this.sessions.delete(sha256(id));
  }

  /** Ends every session `which` selects; returns how many. */
  revokeWhere(which: (session: Session) => boolean): number {
    let n = 0;
    for (const [key, session] of this.sessions) if (which(session) && this.sessions.delete(key)) n++;
    return n;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A code that becomes a session once, within LINK_TTL_MS. */
  issueLink(principal: Principal, account: SessionAccount, now = Date.now()): { code: string; expiresAt: number } {
    this.sweep(now);
    const code = secret();
    const expiresAt = now + LINK_TTL_MS;
    this.links.set(sha256(code), { principal, account, createdAt: now, expiresAt });
    if (this.links.size > MAX_LINKS) this.links.delete(this.links.keys().next().value!);
    return { code, expiresAt };
  }

  /** The link's session-to-be, removed on first use whether or not it was still valid. */
  redeemLink(code: string, now = Date.now()): Omit<Session, 'createdAt' | 'expiresAt'> | undefined {
    const key = sha256(code);
    const link = this.links.get(key);
    this.links.delete(key);
    return link && link.expiresAt > now ? { principal: link.principal, account: link.account } : undefined;
  }

  private sweep(now: number): void {
    for (const [key, s] of this.links) if (s.expiresAt <= now) this.links.delete(key);
    for (const [key, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(key);
  }
}

/** The session id a request's Cookie header carries, if any. */
export function sessionCookie(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}

/** A short fingerprint of a password hash: changes whenever the password does, reveals nothing of it. */
export const passwordStamp = (passwordHash: string) => sha256(passwordHash).slice(0, 16);
