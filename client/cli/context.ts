// What every CLI command starts from: SKYDECK_HOME, the endpoint, the user, and a client to a server that answers.
import { join } from 'node:path';
import { ApiClient } from '../api-client';
import { withCredentials } from '../auth/credentials';
import { resolveEndpoint, type Endpoint } from '../endpoint';
import { skydeckHome } from '../home';
import { resolveIdentity } from '../identity';
import { ensureServerSoon, type LocalServerOptions } from '../local-server';
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
  return (await connectSoon()).ready();
}

/**
 * connect() in two steps, for a command with work of its own to do first (reading a task file): the server
 * is asked at once whether it answers, and answers while that work runs; `ready()` waits for the answer.
 * `context.client.close()` drops the question when the command ends before asking for it.
 */
export async function connectSoon(): Promise<{ context: CliContext; ready(): Promise<CliContext> }> {
  const context = cliContext();
  const answered = ensureServerSoon(context.client, context.localServer);
  // One turn of the event loop connects and sends the probe; without it nothing leaves before the work is done.
  await new Promise((resolve) => setImmediate(resolve));
  return {
    context,
    async ready() {
      await answered();
      return context;
    },
  };
}

/** Who the server says we are (an authenticated account on a team server, else this client's identity). */
export async function whoAmI(client: ApiClient): Promise<{ id: string; name: string }> {
  return (await client.health()).user ?? client.user;
}
