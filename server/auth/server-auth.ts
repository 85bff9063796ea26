// The server's authenticator. With no accounts configured it is a local server: callers must show the
// local token and are then taken at their claimed identity. Once the users file or the tokens file has
// an entry it is a team server: Basic credentials or a service-account bearer token, claims ignored.
// A server listening beyond loopback is a team server for good: without accounts it lets no one in.
// Both files are re-read when they change, so adding, removing or revoking takes effect on the next call.
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { fail } from '../errors';
import { accountFiles, accountUser, checkToken, parseTokens, parseUsers, type TokenEntry, type UserEntry } from './accounts';
import { claimedUser, type Authenticator, type Principal } from './identity';
import { USER_ID_HEADER, USER_NAME_HEADER } from '../../protocol/api';
import { STREAM_LINK_TTL_SECONDS, streamSignature } from '../../shared/stream-signature';
import { loadLocalToken, localTokenFile, sameSecret } from './local-token';
import { ClientAddresses } from './client-address';
import { LoginThrottle } from './login-throttle';
import { WatchedFile } from './owner-file';
import { verifyNothing, verifyPassword } from './passwords';
import { passwordStamp, sessionCookie, SessionStore, type SessionAccount } from './sessions';

/**
 * A verified Basic credential is remembered this long (as a keyed hash, with the password hash it matched),
 * so a client's every call does not cost a scrypt and its owner is not held back by someone guessing.
 */
const VERIFIED_TTL_MS = 30 * 24 * 3_600_000;
const MAX_VERIFIED = 1_000;
const RECHECK_MS = 1_000;

interface Verified {
  /** The account's password hash when this credential matched it: a changed password forgets it. */
  passwordHash: string;
  until: number;
}



export class ServerAuthenticator implements Authenticator {
  readonly localToken: string;
  readonly localTokenFile: string;
  private readonly users: WatchedFile<UserEntry[]>;
  private readonly tokens: WatchedFile<TokenEntry[]>;
  /** Failures count per account at an address: a guesser of alice's password holds back neither bob nor alice elsewhere. */
  private readonly throttle: LoginThrottle;
  private readonly verified = new Map<string, Verified>();
  private readonly cacheKey = randomBytes(32);
  /** Open long-lived connections: the request that authenticated each, and its credentialKey(). */
  private readonly connections = new Map<Socket, { req: IncomingMessage; credential: string }>();
  private rechecking = false;
  /** Dashboard sessions (cookies), valid while the account behind each is unchanged. */
  readonly sessions = new SessionStore();

  constructor(
    dataDir: string,
    log: (line: string) => void,
    /** Listening beyond loopback: never a local server, even when the last account is removed. */
    private readonly beyondLoopback = false,
    throttle = new LoginThrottle(),
    /** Where a request comes from (X-Forwarded-For only from a trusted proxy). */
    private readonly addresses = new ClientAddresses(),
  ) {
    const files = accountFiles(dataDir);
    this.users = new WatchedFile(files.users, parseUsers, [], log);
    this.tokens = new WatchedFile(files.tokens, parseTokens, [], log);
    // Read now so that a broken file stops the server at start with the reason.
    this.users.current();
    this.tokens.current();
    this.localToken = loadLocalToken(dataDir);
    this.localTokenFile = localTokenFile(dataDir);
    this.throttle = throttle;
    setInterval(() => this.recheckConnections(), RECHECK_MS).unref();
  }

  /** Whether accounts are configured (a team server); otherwise the local token guards the server. */
  get hasAccounts(): boolean {
    return this.users.current().length > 0 || this.tokens.current().length > 0;
  }

  get team(): boolean {
    return this.beyondLoopback || this.hasAccounts;
  }

  get mode(): 'basic' | 'token' | 'local-token' {
    if (this.users.current().length > 0) return 'basic';
    if (this.tokens.current().length > 0) return 'token';
    return this.beyondLoopback ? 'basic' : 'local-token';
  }

  async authenticate(req: IncomingMessage): Promise<Principal> {
    const outcome = await this.identify(req);
    if (typeof outcome !== 'string') {
      this.trackLongLived(req);
      return outcome;
    }
    throw fail.unauthorized(outcome);
  }

  private identify(req: IncomingMessage): Promise<Principal | string> | Principal | string {
    const header = req.headers.authorization;
    const session = header === undefined ? sessionCookie(req.headers) : undefined;
    if (session !== undefined) return this.sessionCaller(req, session);
    const [scheme, credentials] = typeof header === 'string' ? splitOnce(header.trim(), ' ') : ['', ''];
    return this.team ? this.teamCaller(req, scheme.toLowerCase(), credentials.trim()) : this.localCaller(req, scheme.toLowerCase(), credentials.trim());
  }

  /** WebSockets and followed log streams outlive the moment their credentials were checked. */
  private trackLongLived(req: IncomingMessage): void {
    if (req.headers.upgrade?.toLowerCase() === 'websocket') {
      this.connections.set(req.socket, { req, credential: this.credentialKey(req) });
      req.socket.once('close', () => this.connections.delete(req.socket));
    } else if (req.url?.startsWith('/api/stream')) {
      this.connections.set(req.socket, { req, credential: this.credentialKey(req) });
      req.once('close', () => this.connections.get(req.socket)?.req === req && this.connections.delete(req.socket));
    }
  }

  /**
   * Everything of a request that identify() decides by, as one string: requests alike in it get the same
   * answer at the same moment, so one check answers for all of them. The URL counts only where it is
   * the credential (a signed stream link), so that one caller's followers of many logs are one check.
   */
  private credentialKey(req: IncomingMessage): string {
    const h = req.headers;
    const link = h.authorization === undefined && sessionCookie(h) === undefined ? req.url : undefined;
    return JSON.stringify([h.authorization, h.cookie, req.method, link, h.origin, h['sec-fetch-site'], h[USER_ID_HEADER], h[USER_NAME_HEADER], this.addresses.keyOf(req)]);
  }

  /**
   * Each second, the credentials of every open WebSocket and log stream are checked again, and a
   * connection whose user was removed or whose token was revoked or has expired is closed. Connections
   * opened with the same credentials are checked once for all (a thousand log followers of one
   * token cost one check a second, not a thousand).
   */
  private recheckConnections(): void {
    if (this.rechecking || this.connections.size === 0) return;
    this.rechecking = true;
    void (async () => {
      const byCredential = new Map<string, { req: IncomingMessage; open: [Socket, IncomingMessage][] }>();
      for (const [socket, { req, credential }] of this.connections) {
        if (socket.destroyed) this.connections.delete(socket);
        else if (byCredential.has(credential)) byCredential.get(credential)!.open.push([socket, req]);
        else byCredential.set(credential, { req, open: [[socket, req]] });
      }
      let checked = 0;
      for (const { req, open } of byCredential.values()) {
        // Each check stats the account files: a thousand in one turn of the event loop stalled every
        // other request (bench:security, 1,000 log followers), so other work gets turns in between.
        if (++checked % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        let outcome: Principal | string;
        try {
          outcome = await this.identify(req);
        } catch {
          outcome = 'no longer valid';
        }
        if (typeof outcome !== 'string') continue;
        for (const [socket, opened] of open) {
          // A keep-alive socket may have moved on to another request since: that one answers for itself.
          if (this.connections.get(socket)?.req !== opened) continue;
          this.connections.delete(socket);
          socket.destroy();
        }
      }
    })().finally(() => (this.rechecking = false));
  }

  /** Sent with a 401 so that a browser asks for a user name and password (team servers with users). */
  get challenge(): string | undefined {
    return this.mode === 'basic' ? 'Basic realm="SkyDeck", charset="UTF-8"' : undefined;
  }

  private localCaller(req: IncomingMessage, scheme: string, credentials: string): Principal | string {
    if (scheme === 'bearer' && sameSecret(credentials, this.localToken)) return { user: claimedUser(req.headers), role: 'admin', localOwner: true };
    if (scheme === '' && this.validStreamLink(req)) return { user: claimedUser(req.headers), role: 'user' };
    const hint = `clients of the user running the server send the token in ${this.localTokenFile} (the skydeck CLI and the VS Code extension do this by themselves; elsewhere set SKYDECK_API_TOKEN)`;
    return scheme === '' ? `this local API server needs its token: ${hint}` : `wrong local token: ${hint}`;
  }

  /** The browser stream page: `GET /api/stream?request_id=ID&expires=T&sig=...` opens that log alone, until T. */
  private validStreamLink(req: IncomingMessage): boolean {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = url.searchParams.get('request_id');
    const sig = url.searchParams.get('sig');
    const expires = Number(url.searchParams.get('expires'));
    const now = Date.now() / 1000;
    // A link made to last longer than the CLI's ever would is refused too.
    if (!Number.isInteger(expires) || expires <= now || expires > now + STREAM_LINK_TTL_SECONDS + 60) return false;
    return url.pathname === '/api/stream' && id !== null && sig !== null && sameSecret(sig, streamSignature(this.localToken, id, expires));
  }

  private async teamCaller(req: IncomingMessage, scheme: string, credentials: string): Promise<Principal | string> {
    const login = 'log in with: skydeck api login -e <endpoint> (user and password, or --token for a service account)';
    if (!this.hasAccounts) {
      return 'this server has no accounts left, and it listens beyond loopback, so it answers no one; an admin adds one on its machine: skydeck users add NAME --role admin --data-dir <data-dir>';
    }
    if (scheme === '') return `authentication required; ${login}`;
    if (scheme === 'bearer') {
      const check = checkToken(this.tokens.current(), credentials);
      if (!check.ok) return `${check.reason}; ${login}`;
      return { user: accountUser('token', check.entry.name), role: check.entry.role };
    }
    if (scheme !== 'basic') return `unsupported authorization scheme; ${login}`;
    return (await this.basicCaller(req, credentials)) ?? `wrong user name or password; ${login}`;
  }

  /**
   * A dashboard sign-in: what an `authorization` header would carry, checked the same way (passwords
   * throttled per account and address, as every login).
   */
  signIn(req: IncomingMessage, credentials: { user: string; password: string } | { token: string }): Promise<Principal | string> | string {
    if (!this.team) return 'this local server has no accounts: open its dashboard with `skydeck dashboard`';
    return 'token' in credentials ? this.teamCaller(req, 'bearer', credentials.token) : this.teamCaller(req, 'basic', Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64'));
  }

  /** What a session for this caller must keep matching: the account it was created from. */
  sessionAccount(principal: Principal): SessionAccount | undefined {
    if (!this.team) return { kind: 'local' };
    const user = this.users.current().find((u) => accountUser('user', u.name).id === principal.user.id);
    if (user) return { kind: 'user', name: user.name, stamp: passwordStamp(user.password) };
    const token = this.tokens.current().find((t) => accountUser('token', t.name).id === principal.user.id);
    return token ? { kind: 'token', tokenId: token.id } : undefined;
  }

  private sessionCaller(req: IncomingMessage, id: string): Principal | string {
    const session = this.sessions.get(id);
    if (!session) return 'your dashboard session has ended (signed out, expired, or the server restarted): sign in again';
    const account = this.sessionAccount(session.principal);
    const same =
      account?.kind === session.account.kind &&
      JSON.stringify(account) === JSON.stringify(session.account) &&
      (account.kind !== 'token' || checkTokenAlive(this.tokens.current(), account.tokenId)) &&
      this.roleOf(account, session.principal) === session.principal.role;
    if (!same) {
      this.sessions.revoke(id);
      return 'your account changed (removed, or its role or password changed) since you signed in: sign in again';
    }
    // Belt and braces beside SameSite=Strict: a cookie-borne change must come from a page of this server.
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && req.headers.origin === undefined && req.headers['sec-fetch-site'] !== 'same-origin') {
      return 'a change made with a dashboard session must come from the dashboard page (no Origin header)';
    }
    return session.principal;
  }

  private roleOf(account: SessionAccount, principal: Principal): string {
    if (account.kind === 'local') return principal.role;
    if (account.kind === 'user') return this.users.current().find((u) => u.name === account.name)?.role ?? '';
    return this.tokens.current().find((t) => t.id === account.tokenId)?.role ?? '';
  }

  /**
   * Passwords are what guessers try, so only they are throttled (tokens and the local token are 256-bit
   * random: a wrong one costs a hash, and guessing one is hopeless). A credential that has logged in
   * before with the account's current password passes even while others guess that account.
   */
  private async basicCaller(req: IncomingMessage, credentials: string): Promise<Principal | undefined> {
    const users = this.users.current();
    const [name, password] = splitOnce(Buffer.from(credentials, 'base64').toString('utf8'), ':');
    const entry = users.find((u) => u.name.toLowerCase() === name.toLowerCase());
    const key = createHmac('sha256', this.cacheKey).update(credentials).digest('base64');
    const known = this.verified.get(key);
    if (known && entry && known.passwordHash === entry.password && known.until > Date.now()) return { user: accountUser('user', entry.name), role: entry.role };
    this.verified.delete(key);
    // A credential that was valid names an account that existed: there is nothing to hide by taking time.
    if (known && !entry) return undefined;

    const address = this.addresses.keyOf(req);
    const account = `${name.toLowerCase()}@${address}`;
    const wait = this.throttle.waitFor(account);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw fail.too_many_attempts(`too many failed logins for ${name.slice(0, 64)} from ${address}; try again in ${seconds} s`, { retryAfterSeconds: seconds });
    }
    const valid = entry ? await verifyPassword(password, entry.password) : void (await verifyNothing(password));
    if (!entry || !valid) {
      this.throttle.failed(account);
      return undefined;
    }
    this.throttle.succeeded(account);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { passwordHash: entry.password, until: Date.now() + VERIFIED_TTL_MS });
    return { user: accountUser('user', entry.name), role: entry.role };
  }
}

function checkTokenAlive(tokens: readonly TokenEntry[], id: string): boolean {
  const entry = tokens.find((t) => t.id === id);
  return entry !== undefined && (entry.expiresAt === undefined || entry.expiresAt > Date.now());
}

function splitOnce(text: string, separator: string): [string, string] {
  const i = text.indexOf(separator);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}
