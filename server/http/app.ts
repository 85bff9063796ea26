// The HTTP server: Koa for the API, `ws` for /api/ws, both on one Node http server.
import http from 'node:http';
import Koa from 'koa';
import type { IncomingMessage } from 'node:http';
import { identifyCaller } from '../auth/caller';
import type { ConnectionLimits } from '../auth/connection-limits';
import { ServerAuthenticator } from '../auth/server-auth';
import type { Core } from '../core';
import { dashboardRoutes } from './dashboard';
import { errorMiddleware } from './errors';
import { apiRoutes } from './routes';
import { WsHub } from './ws-hub';

/** Checks a request before any route runs (Host, Origin, credentials); sets nothing, throws to refuse. */
export type Gate = (req: IncomingMessage) => Promise<void>;

export interface HttpServer {
  server: http.Server;
  hub: WsHub;
  /** The same API on a second listener (the local server's Unix socket), sharing the hub and the gate. */
  alsoServe(): http.Server;
}

export function createHttpServer(core: Core, gate: Gate, logError: (err: unknown) => void, limits: ConnectionLimits): HttpServer {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(errorMiddleware(logError));
  app.use(async (ctx, next) => {
    limits.claimRequest(ctx.req, ctx.res);
    await gate(ctx.req);
    await next();
  });
  // The dashboard's page and its sign-in need no credentials; its other calls do.
  const dashboard = core.authenticator instanceof ServerAuthenticator ? dashboardRoutes(core.authenticator, core.options.dataDir) : undefined;
  if (dashboard) app.use(dashboard.open.routes());
  app.use(async (ctx, next) => {
    ctx.state.principal = await identifyCaller(core.authenticator, ctx);
    await next();
  });
  if (dashboard) app.use(dashboard.signedIn.routes());
  const router = apiRoutes(core);
  app.use(router.routes());
  app.use(router.allowedMethods());

  // Header and request timeouts are enforced by a sweep; the default 30 s sweep would let a slow-loris
  // client hold a socket for up to 40 s instead of 10.
  const callback = app.callback();
  const listener = () => {
    const s = http.createServer({ connectionsCheckingInterval: 1_000 }, callback);
    // Slow or stalled clients cannot hold connections open forever (streams keep themselves alive
    // with heartbeats, so they are not cut by the idle timeout).
    s.headersTimeout = 10_000;
    s.requestTimeout = 0;
    s.keepAliveTimeout = 5_000;
    s.setTimeout(2 * 60_000);
    s.on('upgrade', (req, socket, head) => void hub.handleUpgrade(req, socket, head));
    return s;
  };
  const server = listener();
  limits.attach(server);
  const hub = new WsHub(core, async (req) => {
    await gate(req);
    const caller = await core.authenticator.authenticate(req);
    limits.claimWebSocket(req);
    return caller;
  });
  return { server, hub, alsoServe: listener };
}
