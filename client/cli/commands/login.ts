// `skydeck api login | logout`: choose a server, check the credentials on it, and remember both:
// the endpoint in SKYDECK_HOME/config.yaml, the secret in SKYDECK_HOME/credentials.json (mode 0600).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { HealthResponse } from '../../../protocol/api';
import { askHidden as askHiddenLine, PromptCancelled } from '../../../shared/terminal-prompt';
import { ApiClient } from '../../api-client';
import { authorizationOf, credentialsPath, forgetCredentials, saveCredentials, withCredentials, type SavedCredentials } from '../../auth/credentials';
import { saveEndpoint } from '../../auth/saved-endpoint';
import { parseEndpoint, redact, resolveEndpoint } from '../../endpoint';
import { ApiError } from '../../errors';
import { homePaths, skydeckHome } from '../../home';
import { resolveIdentity } from '../../identity';
import { CliExit, EXIT, note, print } from '../output';

export interface LoginOptions {
  endpoint?: string;
  user?: string;
  passwordStdin?: boolean;
  token?: string;
  /** SkyPilot's long name of --token. */
  serviceAccountToken?: string;
  tokenStdin?: boolean;
  /** SkyPilot's forced OAuth re-login; every login here checks the credentials anew, so it changes nothing. */
  relogin?: boolean;
}

export async function login(given: LoginOptions): Promise<void> {
  if (given.token !== undefined && given.serviceAccountToken !== undefined && given.token !== given.serviceAccountToken) {
    throw new CliExit(EXIT.usage, 'Error: --token and --service-account-token name the same token; give one');
  }
  const options = { ...given, token: given.token ?? given.serviceAccountToken };
  if (options.relogin) note('--relogin: every `skydeck api login` checks the credentials on the server anew (there is no OAuth session to renew).');
  const home = skydeckHome();
  const typed = options.endpoint ?? (await ask('SkyDeck API server endpoint (http://host:port): '));
  if (!typed?.trim()) throw new CliExit(EXIT.usage, 'Error: give the endpoint with -e URL');
  const endpoint = parseEndpoint(typed.trim(), 'override');
  const user = resolveIdentity(home);
  const anonymous = new ApiClient({ endpoint: { ...endpoint, authorization: undefined }, user, agent: 'skydeck-cli' });
  let health: HealthResponse;
  try {
    health = await anonymous.health(10_000);
  } finally {
    anonymous.close();
  }

  let credentials: SavedCredentials | undefined = await credentialsFrom(options, endpoint.authorization);
  if (health.auth === 'local-token' || health.auth === 'none') {
    if (!endpoint.local) throw new CliExit(EXIT.error, `Error: ${redact(typed)} is a local server (it serves only its own machine); start a team server with accounts (see docs/deploy.md)`);
    credentials = undefined; // the local token is read at each call
  } else {
    credentials ??= await askCredentials(health.auth);
  }

  const authorization = credentials ? authorizationOf(credentials) : withCredentials({ ...endpoint, authorization: undefined }, home).authorization;
  const client = new ApiClient({ endpoint: { ...endpoint, authorization }, user, agent: 'skydeck-cli' });
  let me: HealthResponse;
  try {
    // Health says who the credentials belong to; one authenticated read proves they open the API.
    me = await client.health();
    await client.listRequests({ limit: 1 });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 429)) throw new CliExit(EXIT.error, `Error: ${endpoint.url} refused the login: ${err.message}`);
    throw err;
  } finally {
    client.close();
  }
  saveEndpoint(home, endpoint.url);
  if (credentials) saveCredentials(home, endpoint.url, credentials);
  else forgetCredentials(home, endpoint.url);
  print(`Logged in to ${endpoint.url} as ${me.user.name} (${me.user.id}); auth: ${me.auth}.`);
  print(`  Endpoint saved to ${homePaths(home).config}${credentials ? `; credentials to ${credentialsPath(home)} (readable by you alone)` : ''}.`);
}

export async function logout(): Promise<void> {
  const home = skydeckHome();
  const endpoint = resolveEndpoint({ home, env: {} });
  const forgot = forgetCredentials(home, endpoint.url);
  saveEndpoint(home, undefined);
  print(`Logged out of ${endpoint.url}${forgot ? ': credentials removed' : ''}; the endpoint is the local default again${process.env.SKYDECK_API_SERVER_ENDPOINT ? ' (SKYDECK_API_SERVER_ENDPOINT still overrides it)' : ''}.`);
}

async function credentialsFrom(options: LoginOptions, fromUrl: string | undefined): Promise<SavedCredentials | undefined> {
  if (options.token || options.tokenStdin) return { kind: 'token', token: options.token ?? firstLine(readFileSync(0, 'utf8')) };
  if (fromUrl) {
    const [user, ...rest] = Buffer.from(fromUrl.slice('Basic '.length), 'base64').toString('utf8').split(':');
    return { kind: 'basic', user: user!, password: rest.join(':') };
  }
  if (options.user !== undefined) {
    const password = options.passwordStdin ? firstLine(readFileSync(0, 'utf8')) : await askHidden(`Password for ${options.user}: `);
    return { kind: 'basic', user: options.user, password };
  }
  return undefined;
}

async function askCredentials(mode: HealthResponse['auth']): Promise<SavedCredentials> {
  if (!process.stdin.isTTY) {
    throw new CliExit(EXIT.usage, 'Error: this server needs credentials: give -u USER with --password-stdin, or --token TOKEN (or user:password in the URL)');
  }
  if (mode === 'token') return { kind: 'token', token: await askHidden('Service-account token: ') };
  const user = (await ask('User: ')) ?? '';
  return { kind: 'basic', user: user.trim(), password: await askHidden('Password: ') };
}

const firstLine = (text: string) => text.split(/\r?\n/)[0] ?? '';

function ask(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise<string | undefined>((resolve) => {
    rl.once('close', () => resolve(undefined));
    rl.question(question, (answer) => {
      resolve(answer);
      rl.close();
    });
  });
}

/** The shared hidden prompt, with the CLI's exits: no terminal is a usage error, Ctrl-C an interrupt. */
async function askHidden(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliExit(EXIT.usage, 'Error: no terminal to ask for a secret; pass it on stdin (--password-stdin, --token-stdin)');
  try {
    return await askHiddenLine(prompt);
  } catch (err) {
    throw err instanceof PromptCancelled ? new CliExit(EXIT.interrupted) : err;
  }
}
