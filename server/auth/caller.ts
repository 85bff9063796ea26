// Finds the caller of an HTTP request. /api/health answers without credentials (probes, load balancers,
// a client deciding whether to start a server) but still says who you are when you send them.
import type { Context } from 'koa';
import { SkyDeckError } from '../errors';
import { ANONYMOUS, type Authenticator, type Principal } from './identity';

export async function identifyCaller(authenticator: Authenticator & { readonly challenge?: string }, ctx: Context): Promise<Principal> {
  if (ctx.path === '/api/health' && ctx.get('authorization') === '') return { user: ANONYMOUS, role: 'user' };
  try {
    return await authenticator.authenticate(ctx.req);
  } catch (err) {
    // A page's own calls get no password prompt from the browser: the dashboard shows its sign-in page instead.
    const ownPage = ctx.get('sec-fetch-site') === 'same-origin' && ctx.get('sec-fetch-mode') !== 'navigate';
    if (err instanceof SkyDeckError && err.code === 'unauthorized' && authenticator.challenge && !ownPage) ctx.set('WWW-Authenticate', authenticator.challenge);
    const retry = err instanceof SkyDeckError && err.code === 'too_many_attempts' ? (err as SkyDeckError<'too_many_attempts'>).details?.retryAfterSeconds : undefined;
    if (retry) ctx.set('Retry-After', String(retry));
    throw err;
  }
}
