// Every change to a team server's accounts, written once: over the admin HTTP API (the dashboard's Users
// and Tokens pages, `skydeck users|tokens` against a remote server) and by the on-machine admin commands
// (admin-cli.ts), which edit the same files. Over HTTP every change ends the dashboard sessions it makes
// stale, and none may leave the server without an admin.
import { randomBytes } from 'node:crypto';
import type { AccountToken, AccountUser, AccountRole } from '../../protocol/dashboard';
import { fail } from '../errors';
import { accountFiles, LOGIN_NAME, LOGIN_NAME_RULE, newToken, parseTokens, parseUsers, tokensText, usersText, type TokenEntry, type UserEntry } from './accounts';
import { WatchedFile, writeOwnerFile } from './owner-file';
import { hashPassword } from './passwords';
import type { SessionStore } from './sessions';

export interface AccountAdminOptions {
  /** The running server's sessions, ended when a change makes them stale (absent on the machine: another process). */
  sessions?: SessionStore;
  /**
   * Refuse a change that would leave no admin (over HTTP: the caller would lock everyone out). The operator
   * on the machine may remove the last account, which makes the server a local one again.
   */
  keepAnAdmin: boolean;
}

export class AccountAdmin {
  readonly files: { users: string; tokens: string };

  constructor(
    dataDir: string,
    private readonly options: AccountAdminOptions,
  ) {
    this.files = accountFiles(dataDir);
  }

  users(): AccountUser[] {
    return this.readUsers().map(({ name, role, createdAt }) => ({ name, role, createdAt }));
  }

  tokens(): AccountToken[] {
    return this.readTokens().map(({ id, name, role, createdAt, expiresAt }) => ({ id, name, role, createdAt, ...(expiresAt !== undefined ? { expiresAt } : {}) }));
  }

  async addUser(name: string, role: AccountRole, password?: string): Promise<{ generatedPassword?: string }> {
    checkName(name);
    const list = this.readUsers();
    if (list.some((u) => u.name.toLowerCase() === name.toLowerCase())) throw fail.conflict(`user ${name} already exists`);
    const generated = password === undefined ? generatePassword() : undefined;
    list.push({ name, role, password: await hashPassword(password ?? generated!), createdAt: Date.now() });
    this.saveUsers(list);
    return generated ? { generatedPassword: generated } : {};
  }

  async changeUser(name: string, change: { role?: AccountRole; password?: string; generatePassword?: boolean }): Promise<{ generatedPassword?: string; sessionsEnded: number }> {
    const list = this.readUsers();
    const i = this.findUser(list, name);
    const entry = { ...list[i]! };
    if (change.role && change.role !== entry.role) {
      if (entry.role === 'admin') this.keepAnAdmin(list.filter((_, k) => k !== i));
      entry.role = change.role;
    }
    const generated = change.generatePassword ? generatePassword() : undefined;
    const password = change.password ?? generated;
    if (password !== undefined) entry.password = await hashPassword(password);
    list[i] = entry;
    this.saveUsers(list);
    return { ...(generated ? { generatedPassword: generated } : {}), sessionsEnded: this.endSessions('user', entry.name) };
  }

  removeUser(name: string): { sessionsEnded: number } {
    const list = this.readUsers();
    const i = this.findUser(list, name);
    const [removed] = list.splice(i, 1);
    if (removed!.role === 'admin') this.keepAnAdmin(list);
    this.saveUsers(list);
    return { sessionsEnded: this.endSessions('user', removed!.name) };
  }

  createToken(name: string, role: AccountRole, lifetimeMs?: number): { token: AccountToken; secret: string } {
    checkName(name);
    const list = this.readTokens();
    if (list.some((t) => t.name.toLowerCase() === name.toLowerCase())) throw fail.conflict(`a token named ${name} exists; revoke it first or pick another name`);
    const fresh = newToken();
    const entry: TokenEntry = { id: fresh.id, name, role, sha256: fresh.sha256, createdAt: Date.now(), ...(lifetimeMs !== undefined ? { expiresAt: Date.now() + lifetimeMs } : {}) };
    list.push(entry);
    this.saveTokens(list);
    const { sha256: _hash, ...token } = entry;
    return { token, secret: fresh.token };
  }

  revokeToken(idOrName: string): { token: AccountToken; sessionsEnded: number } {
    const list = this.readTokens();
    const i = list.findIndex((t) => t.id === idOrName || t.name.toLowerCase() === idOrName.toLowerCase());
    if (i < 0) throw fail.not_found(`no token ${idOrName.slice(0, 64)}`);
    const [revoked] = list.splice(i, 1);
    if (revoked!.role === 'admin') this.keepAnAdmin(this.readUsers(), list);
    this.saveTokens(list);
    const { sha256: _hash, ...token } = revoked!;
    return { token, sessionsEnded: this.options.sessions?.revokeWhere((s) => s.account.kind === 'token' && s.account.tokenId === revoked!.id) ?? 0 };
  }

  private endSessions(kind: 'user', name: string): number {
    return this.options.sessions?.revokeWhere((s) => s.account.kind === kind && s.account.name.toLowerCase() === name.toLowerCase()) ?? 0;
  }

  /** Refuses a change that would leave no admin to make the next one. */
  private keepAnAdmin(users: readonly UserEntry[], tokens: readonly TokenEntry[] = this.readTokens()): void {
    if (!this.options.keepAnAdmin || users.some((u) => u.role === 'admin') || tokens.some((t) => t.role === 'admin')) return;
    throw fail.conflict('that would leave the server without an admin: make another account admin first');
  }

  private findUser(list: UserEntry[], name: string): number {
    const i = list.findIndex((u) => u.name.toLowerCase() === name.toLowerCase());
    if (i < 0) throw fail.not_found(`no user ${name.slice(0, 64)}`);
    return i;
  }

  /** Whether any account is left (none: the server is a local server again). */
  hasAccounts(): boolean {
    return this.readUsers().length > 0 || this.readTokens().length > 0;
  }

  private readUsers(): UserEntry[] {
    return [...new WatchedFile(this.files.users, parseUsers, []).current()];
  }

  private readTokens(): TokenEntry[] {
    return [...new WatchedFile(this.files.tokens, parseTokens, []).current()];
  }

  private saveUsers(list: UserEntry[]): void {
    writeOwnerFile(this.files.users, usersText(list));
  }

  private saveTokens(list: TokenEntry[]): void {
    writeOwnerFile(this.files.tokens, tokensText(list));
  }
}

function checkName(name: string): void {
  if (!LOGIN_NAME.test(name)) throw fail.bad_request(`'${name.slice(0, 64)}' is not a valid name: ${LOGIN_NAME_RULE}`);
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
