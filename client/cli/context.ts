// What every CLI command starts from: SKYDECK_HOME, the endpoint, the user, and a client to a server that answers.
import { join } from 'node:path';
import { ApiClient } from '../api-client';
import { withCredentials } from '../auth/credentials';
import { resolveEndpoint, type Endpoint } from '../endpoint';
import { skydeckHome } from '../home';
import { resolveIdentity } from '../identity';
import { ensureServer, type LocalServerOptions } from '../local-server';
import { note } from './output';

export interface CliContext {
  home: string;
  endpoint: Endpoint;
  client: ApiClient;
  /** How this CLI starts the local server: the server.js bundled next to cli.js, run by this Node. */
  localServer: LocalServerOptions;
}

export function cliContext(): CliContext {
  const home = skydeckHome();
  const endpoint = withCredentials(resolveEndpoint({ home }), home);
  const client = new ApiClient({ endpoint, user: resolveIdentity(home), agent: 'skydeck-cli' });
  const localServer: LocalServerOptions = {
    home,
    serverScript: join(__dirname, 'server.js'),
    runtime: process.execPath,
    onProgress: (message) => note(message),
  };
  return { home, endpoint, client, localServer };
}

/** A context whose server answers: a local endpoint with nothing behind it gets the server started. */
export async function connect(): Promise<CliContext> {
  const context = cliContext();
  await ensureServer(context.client, context.localServer);
  return context;
}
