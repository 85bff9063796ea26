// The wire contract of dashboard sessions and of the admin accounts API, shared by the server, the CLI
// and the dashboard page. Zod-free (the page imports it); the bodies' schemas are in dashboard-schemas.ts.
//   POST /api/sessions {user, password} | {token}  -> 200 MeResponse + session cookie (no credentials needed)
//   POST /api/sessions/sign-out                    -> 204, the session ended and its cookie cleared
//   POST /api/sessions/links                       -> 200 DashboardLink: a one-time link that signs a browser in
//   GET  /dashboard/link?code=...                  -> 303 to /dashboard/ with a session cookie, once
//   GET  /api/me                                   -> MeResponse
//   Accounts (admins only):
//   GET  /api/admin/users                          -> UserListResponse
//   POST /api/admin/users {name, role, password?}  -> AccountChangeResponse (generatedPassword when none given)
//   POST /api/admin/users/:name {role?, password?} -> AccountChangeResponse (generatePassword: true for a new one)
//   DELETE /api/admin/users/:name                  -> AccountChangeResponse
//   GET  /api/admin/tokens                         -> TokenListResponse
//   POST /api/admin/tokens {name, role, expiresInDays?} -> TokenCreatedResponse (the token, shown once)
//   DELETE /api/admin/tokens/:idOrName             -> AccountChangeResponse
import type { HealthResponse } from './api';
import type { User } from './model';

export const DASHBOARD_PATH = '/dashboard/';

export const ACCOUNT_ROLES = ['admin', 'user'] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export interface MeResponse {
  user: User;
  role: AccountRole;
  auth: HealthResponse['auth'];
  /** Set when the caller is signed in with a dashboard session. */
  session?: { expiresAt: number };
}

export interface DashboardLink {
  /** Path and query of the link, to put after the server's base URL. */
  path: string;
  expiresAt: number;
}

export const MIN_PASSWORD_LENGTH = 8;

export interface AccountUser {
  name: string;
  role: AccountRole;
  createdAt: number;
}

export interface AccountToken {
  id: string;
  name: string;
  role: AccountRole;
  createdAt: number;
  expiresAt?: number;
}

export interface UserListResponse {
  users: AccountUser[];
}

export interface TokenListResponse {
  tokens: AccountToken[];
}

export interface AccountChangeResponse {
  message: string;
  /** A password the server generated, shown only in this answer. */
  generatedPassword?: string;
  /** Dashboard sessions ended by the change (removed user, new role or password). */
  sessionsEnded?: number;
}

export interface TokenCreatedResponse {
  token: AccountToken;
  /** The secret, shown only in this answer. */
  secret: string;
}
