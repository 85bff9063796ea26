// The admin HTTP API for accounts (protocol/dashboard.ts): users and service-account tokens, for
// admins only; every route checks the caller itself.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountChangeResponse, TokenCreatedResponse, TokenListResponse, UserListResponse } from '../../protocol/dashboard';
import { addUserBody, changeUserBody, createTokenBody } from '../../protocol/dashboard-schemas';
import type { AccountAdmin } from '../auth/account-admin';
import type { Principal } from '../auth/identity';
import { requireAdmin } from '../auth/policy';
import { invalidBody } from '../errors';
import { readJsonBody } from './json-body';

export function adminRoutes(accounts: AccountAdmin): Router {
  const router = new Router({ prefix: '/api/admin' });
  router.use(async (ctx, next) => {
    requireAdmin((ctx.state as { principal: Principal }).principal, "manage the server's accounts");
    await next();
  });
  const body = async <T>(ctx: Context, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, what: string): Promise<T> => {
    const parsed = schema.safeParse((await readJsonBody(ctx, 16 * 1024)) ?? {});
    if (!parsed.success) throw invalidBody(what, parsed.error.issues);
    return parsed.data;
  };

  router.get('/users', (ctx) => {
    const answer: UserListResponse = { users: accounts.users() };
    ctx.body = answer;
  });
  router.post('/users', async (ctx) => {
    const b = await body(ctx, addUserBody, 'new user');
    const { generatedPassword } = await accounts.addUser(b.name, b.role, b.password);
    const answer: AccountChangeResponse = { message: `Added user ${b.name} (${b.role}).`, ...(generatedPassword ? { generatedPassword } : {}) };
    ctx.status = 201;
    ctx.body = answer;
  });
  router.post('/users/:name', async (ctx) => {
    const b = await body(ctx, changeUserBody, 'user change');
    const outcome = await accounts.changeUser(ctx.params.name!, b);
    const what = [b.role && `role ${b.role}`, (b.password || b.generatePassword) && 'a new password'].filter(Boolean).join(' and ');
    const answer: AccountChangeResponse = { message: `${ctx.params.name} now has ${what}.`, ...outcome };
    ctx.body = answer;
  });
  router.delete('/users/:name', (ctx) => {
    const outcome = accounts.removeUser(ctx.params.name!);
    const answer: AccountChangeResponse = { message: `Removed user ${ctx.params.name}.`, ...outcome };
    ctx.body = answer;
  });
  router.get('/tokens', (ctx) => {
    const answer: TokenListResponse = { tokens: accounts.tokens() };
    ctx.body = answer;
  });
  router.post('/tokens', async (ctx) => {
    const b = await body(ctx, createTokenBody, 'new token');
    const answer: TokenCreatedResponse = accounts.createToken(b.name, b.role, b.expiresInDays === undefined ? undefined : b.expiresInDays * 86_400_000);
    ctx.status = 201;
    ctx.body = answer;
  });
  router.delete('/tokens/:id', (ctx) => {
    const { token, sessionsEnded } = accounts.revokeToken(ctx.params.id!);
    const answer: AccountChangeResponse = { message: `Revoked token ${token.id} (${token.name}); it stops working at once.`, sessionsEnded };
    ctx.body = answer;
  });
  return router;
}
