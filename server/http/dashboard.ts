// The dashboard's pages and sessions. The page and its assets need no credentials (they hold no data;
// everything shown comes from the API, authorised per call); signing in turns a password, a token or a
// one-time link into an HttpOnly, SameSite=Strict session cookie that the API then accepts like a
// bearer token. Cross-site requests never reach here: the gate refuses foreign Origins first.
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Router from '@koa/router';
import type { Context } from 'koa';
import { DASHBOARD_PATH, type DashboardLink, type MeResponse } from '../../protocol/dashboard';
import { signInBody } from '../../protocol/dashboard-schemas';
import { AccountAdmin } from '../auth/account-admin';
import type { Principal } from '../auth/identity';
import type { ServerAuthenticator } from '../auth/server-auth';
import { SESSION_COOKIE, sessionCookie, type Session } from '../auth/sessions';
import { fail, invalidBody } from '../errors';
import { adminRoutes } from './admin-routes';
import { dashboardAssets, type AssetName } from './dashboard-assets';
import { readJsonBody } from './json-body';

export function dashboardRoutes(auth: ServerAuthenticator, dataDir: string): { open: Router; signedIn: Router } {
  const open = new Router();

  // Paths match exactly here: the router's own matching would take `/dashboard/` for `/dashboard`.
  open.get('/', (ctx, next) => (ctx.path === '/' ? ctx.redirect(DASHBOARD_PATH) : next()));
  open.get('/dashboard', (ctx, next) => (ctx.path === '/dashboard' ? ctx.redirect(DASHBOARD_PATH) : next()));

  open.get('/dashboard/assets/:name', (ctx) => {
    const asset = dashboardAssets()[ctx.params.name as AssetName];
    if (!asset) throw fail.not_found(`no dashboard asset ${ctx.params.name!.slice(0, 64)}`);
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('ETag', `"${asset.version}"`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Vary', 'Accept-Encoding');
    ctx.type = asset.type;
    if (ctx.get('if-none-match') === `"${asset.version}"`) {
      ctx.status = 304;
      return;
    }
    if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = asset.gzip;
    } else ctx.body = asset.body;
  });

  open.get('/dashboard/link', (ctx) => {
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    const link = code ? auth.sessions.redeemLink(code) : undefined;
    pageHeaders(ctx);
    if (!link) {
      ctx.status = 401;
      ctx.type = 'text/html';
      ctx.body = messagePage('Sign-in link not valid', 'This sign-in link was already used or has expired: a link works once, within 30 seconds. Run <code>skydeck dashboard</code> again, or sign in.');
      return;
    }
    const { id, session } = auth.sessions.create(link.principal, link.account);
    setSessionCookie(ctx, id, session);
    ctx.status = 303;
    ctx.redirect(DASHBOARD_PATH);
  });

  // Every other path under /dashboard/ is the single page; the script routes by the URL.
  open.get(/^\/dashboard\/(?!assets\/|link$).*/, (ctx) => {
    const nonce = randomBytes(16).toString('base64');
    pageHeaders(ctx);
    ctx.set(
      'Content-Security-Policy',
      [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src 'nonce-${nonce}'`, `connect-src 'self'`, `img-src 'self' data:`, `base-uri 'none'`, `form-action 'self'`, `frame-ancestors 'none'`].join('; '),
    );
    ctx.type = 'text/html';
    ctx.body = shellPage(nonce, auth.team, rootFrom(ctx.path));
  });

  open.post('/api/sessions', async (ctx) => {
    const parsed = signInBody.safeParse(await readJsonBody(ctx, 16 * 1024));
    if (!parsed.success) throw invalidBody('sign-in', parsed.error.issues);
    const outcome = await auth.signIn(ctx.req, parsed.data);
    if (typeof outcome === 'string') throw fail.unauthorized(outcome);
    const account = auth.sessionAccount(outcome);
    if (!account) throw fail.unauthorized('this account cannot sign in to the dashboard');
    const { id, session } = auth.sessions.create(outcome, account);
    setSessionCookie(ctx, id, session);
    ctx.body = me(outcome, auth, session);
  });

  open.post('/api/sessions/sign-out', (ctx) => {
    const id = sessionCookie(ctx.req.headers);
    if (id) auth.sessions.revoke(id);
    ctx.set('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure(ctx) ? '; Secure' : ''}`);
    ctx.status = 204;
  });

  const signedIn = new Router();
  const principal = (ctx: Context) => (ctx.state as { principal: Principal }).principal;

  signedIn.get('/api/me', (ctx) => {
    const id = ctx.get('authorization') === '' ? sessionCookie(ctx.req.headers) : undefined;
    ctx.body = me(principal(ctx), auth, id ? auth.sessions.get(id) : undefined);
  });

  signedIn.post('/api/sessions/links', (ctx) => {
    // A session cannot extend itself into a fresh one through a link.
    if (ctx.get('authorization') === '') throw fail.forbidden('sign-in links are made by the CLI or the editor with their own credentials');
    const caller = principal(ctx);
    const account = auth.sessionAccount(caller);
    if (!account) throw fail.forbidden('this account cannot sign in to the dashboard');
    const { code, expiresAt } = auth.sessions.issueLink(caller, account);
    const body: DashboardLink = { path: `/dashboard/link?code=${code}`, expiresAt };
    ctx.body = body;
  });

  const admin = adminRoutes(new AccountAdmin(dataDir, { sessions: auth.sessions, keepAnAdmin: true }));
  signedIn.use(admin.routes(), admin.allowedMethods());
  return { open, signedIn };
}

function me(caller: Principal, auth: ServerAuthenticator, session: Session | undefined): MeResponse {
  return { user: caller.user, role: caller.role, auth: auth.mode, ...(session ? { session: { expiresAt: session.expiresAt } } : {}) };
}

/** Secure when the browser reached us over TLS, directly or through a proxy that says so. */
function secure(ctx: Context): boolean {
  return (ctx.req.socket as TLSSocket).encrypted === true || ctx.get('x-forwarded-proto').split(',')[0]?.trim() === 'https' || ctx.get('origin').startsWith('https:');
}

function setSessionCookie(ctx: Context, id: string, session: Session): void {
  const maxAge = Math.floor((session.expiresAt - Date.now()) / 1000);
  ctx.set('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(ctx) ? '; Secure' : ''}`);
}

function pageHeaders(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
}

/** Inline, so the page makes no request for /favicon.ico. */
const ICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0969da"/><path d="M3 11l3-6 2 4 2-2 3 4z" fill="#fff"/></svg>')}`;

/**
 * The way back from a page under /dashboard/ to the server's root, as a relative path ("../", "../../"): the
 * page names its assets, API and WebSocket through it, so it works wherever a proxy mounts the server (VS Code
 * in a browser reaches it under code-server's /proxy/PORT/) as well as directly.
 */
export function rootFrom(pagePath: string): string {
  return '../'.repeat(Math.max(1, pagePath.split('/').length - 2));
}

function shellPage(nonce: string, team: boolean, root: string): string {
  const { 'dashboard.js': js, 'dashboard.css': css } = dashboardAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>SkyDeck</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" nonce="${nonce}" href="${root}dashboard/assets/dashboard.css?v=${css.version}">
</head><body data-server="${team ? 'team' : 'local'}" data-root="${root}"><div id="app"></div>
<script nonce="${nonce}" src="${root}dashboard/assets/dashboard.js?v=${js.version}"></script>
</body></html>`;
}

/** A page without script for the link's answers (at /dashboard/link); `html` is trusted text written here, never input. */
function messagePage(title: string, html: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>SkyDeck: ${title}</title></head>
<body><main><h1>${title}</h1><p>${html}</p><p><a href="./">Open the dashboard</a></p></main></body></html>`;
}
