// Everything a connection needs from client/ (and through it zod, yaml and ws), in one module that
// ServerSession loads with import() after activation, so activating the extension stays cheap.
import { authorizationOf, withCredentials } from '../../client/auth/credentials';
import type { Endpoint } from '../../client/endpoint';
import { ClientError } from '../../client/errors';
import { resolveIdentity } from '../../client/identity';
import { ensureServer, type LocalServerOptions } from '../../client/local-server';
import { DEFAULT_ENDPOINT } from '../../protocol/wire';
import type { Logger } from '../logger';
import type { Credentials } from '../secrets';
import { Connection } from './connection';
import { resolveExtensionEndpoint, splitCredentials } from './endpoint';

export interface OpenOptions {
  home: string;
  setting: string | undefined;
  /** Credentials from SecretStorage for an endpoint, if any. */
  storedCredentials: (url: string) => Promise<Credentials | undefined>;
  /** Moves credentials found in the setting's URL into SecretStorage and the URL without them into the setting. */
  moveUrlCredentials: (url: string, credentials: Credentials) => Promise<void>;
  autoStart: boolean;
  mayStartLocalServer: () => boolean;
  localServer: LocalServerOptions;
  logger: Logger;
  /** Tells the user the endpoint setting cannot be used. */
  reportBadEndpoint: (message: string) => void;
}

export async function openConnection(o: OpenOptions): Promise<Connection> {
  let endpoint: Endpoint;
  try {
    const resolved = resolveExtensionEndpoint(o.setting, o.home);
    endpoint = resolved.endpoint;
    if (resolved.urlCredentials) await o.moveUrlCredentials(endpoint.url, resolved.urlCredentials);
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    o.reportBadEndpoint(err.message);
    endpoint = resolveExtensionEndpoint(DEFAULT_ENDPOINT, o.home).endpoint;
  }
  // The secret store first; then what the CLI would send (SKYDECK_API_TOKEN, its saved login, or the
  // local server's token), so both clients reach the same server as the same user.
  const stored = await o.storedCredentials(endpoint.url);
  endpoint = stored ? { ...endpoint, authorization: authorizationOf(stored) } : withCredentials(endpoint, o.home);
  return new Connection({
    endpoint,
    user: resolveIdentity(o.home),
    startLocalServer: o.autoStart ? (client) => ensureServer(client, o.localServer) : undefined,
    mayStartLocalServer: o.mayStartLocalServer,
    logger: o.logger,
  });
}

export { splitCredentials };
