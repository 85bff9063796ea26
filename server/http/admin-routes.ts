// The admin HTTP API for accounts (protocol/dashboard.ts): users and service-account tokens, for
// admins only; every route checks the caller itself, and parses its input through validated() like
// every other route.
import Router from '@koa/router';
import type { AccountChangeResponse, TokenCreatedResponse, TokenListResponse, UserListResponse } from '../../protocol/dashboard';
import { addUserBody, changeUserBody, createTokenBody, tokenParams, userParams } from '../../protocol/dashboard-schemas';
import type { AccountAdmin } from '../auth/account-admin';
import type { Principal } from '../auth/identity';
import { requireAdmin } from '../auth/policy';
import { validated } from './validate';

/** Account bodies are a name, a role and a password: nothing near the general body limit. */
const ACCOUNT_BODY_LIMIT = 16 * 1024;

export function adminRoutes(accounts: AccountAdmin): Router {
  const router = new Router({ prefix: '/api/admin' });
  router.use(async (ctx, next) => {
    requireAdmin((ctx.state as { principal: Principal }).principal, "manage the server's accounts");
    await next();
  });

  router.get('/users', (ctx) => {
    const answer: UserListResponse = { users: accounts.users() };
    ctx.body = answer;
  });
  router.post(
    '/users',
    validated({ body: addUserBody, what: 'new user', bodyLimit: ACCOUNT_BODY_LIMIT }, async (ctx, { body: b }) => {
      const { generatedPassword } = await accounts.addUser(b.name, b.role, b.password);
      const answer: AccountChangeResponse = { message: `Added user ${b.name} (${b.role}).`, ...(generatedPassword ? { generatedPassword } : {}) };
      ctx.status = 201;
      ctx.body = answer;
    }),
  );
  router.post(
    '/users/:name',
    validated({ params: userParams, body: changeUserBody, what: 'user change', bodyLimit: ACCOUNT_BODY_LIMIT }, async (ctx, { params: { name }, body: b }) => {
      const outcome = await accounts.changeUser(name, b);
      const what = [b.role && `role ${b.role}`, (b.password || b.generatePassword) && 'a new password'].filter(Boolean).join(' and ');
      const answer: AccountChangeResponse = { message: `${name} now has ${what}.`, ...outcome };
      ctx.body = answer;
    }),
  );
  router.delete(
    '/users/:name',
    validated({ params: userParams }, (ctx, { params: { name } }) => {
      const outcome = accounts.removeUser(name);
      const answer: AccountChangeResponse = { message: `Removed user ${name}.`, ...outcome };
      ctx.body = answer;
    }),
  );
  router.get('/tokens', (ctx) => {
    const answer: TokenListResponse = { tokens: accounts.tokens() };
    ctx.body = answer;
  });
  router.post(
    '/tokens',
    validated({ body: createTokenBody, what: 'new token', bodyLimit: ACCOUNT_BODY_LIMIT }, (ctx, { body: b }) => {
      const answer: TokenCreatedResponse = accounts.createToken(b.name, b.role, b.expiresInDays === undefined ? undefined : b.expiresInDays * 86_400_000);
      ctx.status = 201;
      ctx.body = answer;
    }),
  );
  router.delete(
    '/tokens/:id',
    validated({ params: tokenParams }, (ctx, { params: { id } }) => {
      const { token, sessionsEnded } = accounts.revokeToken(id);
      const answer: AccountChangeResponse = { message: `Revoked token ${token.id} (${token.name}); it stops working at once.`, sessionsEnded };
      ctx.body = answer;
    }),
  );
  return router;
}
