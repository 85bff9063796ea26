// The server's protection, assembled from its settings: authenticator, browser gate, connection caps.
// A server that others can reach must have accounts; it refuses to start without them.
import type { ServerConfig } from '../config';
import { fail } from '../errors';
import { ClientAddresses } from './client-address';
import { ConnectionLimits } from './connection-limits';
import { browserGate, isLoopbackHostHeader } from './gate';
import { ServerAuthenticator } from './server-auth';

export function serverProtection(config: ServerConfig, log: (line: string) => void) {
  const loopback = isLoopbackHostHeader(config.host.includes(':') ? `[${config.host}]` : config.host);
  const addresses = new ClientAddresses(config.trustedProxies);
  let authenticator: ServerAuthenticator;
  try {
    authenticator = new ServerAuthenticator(config.dataDir, log, !loopback, undefined, addresses);
  } catch (err) {
    throw fail.config_invalid(`cannot read the server's accounts: ${(err as Error).message}`);
  }
  if (!loopback && !authenticator.hasAccounts) {
    throw fail.config_invalid(
      `refusing to listen on ${config.host} without authentication: anyone who reaches it could run commands as this user.\n` +
        `Add an admin account first (on this machine, as this user), then start the server again:\n` +
        `  skydeck users add NAME --role admin --data-dir ${config.dataDir}\n` +
        `  (or: node dist/server.js users add NAME --role admin --data-dir ${config.dataDir})\n` +
        `For automation, a service-account token: skydeck tokens create NAME --data-dir ${config.dataDir}\n` +
        `To serve only this machine, use --host 127.0.0.1. See docs/deploy.md.`,
    );
  }
  return {
    /** Listening on loopback only: a local server (or a team server that serves only this machine). */
    loopback,
    authenticator,
    gate: browserGate({ local: () => !authenticator.team }),
    limits: new ConnectionLimits({ connectionsPerClient: config.connectionsPerClient, webSocketsPerClient: config.webSocketsPerClient, connections: config.connections }, addresses),
  };
}
