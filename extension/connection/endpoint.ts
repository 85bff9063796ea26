// Where the API server is, resolved the way the CLI does it, and how to talk to it (credentials apart).
// TODO(client): client/ will own endpoint resolution; this moves there once it lands.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_ENDPOINT } from '../../protocol/api';

export type EndpointSource = 'setting' | 'environment' | 'config' | 'default';

export interface Endpoint {
  /** Origin and path prefix without credentials, e.g. `http://127.0.0.1:46590`. */
  url: string;
  source: EndpointSource;
  /** Credentials that rode in the URL (`http://user:pw@host`), to be moved to SecretStorage. */
  basicAuth?: { user: string; password: string };
  /** Whether it names this machine, so a missing server may be started here. */
  local: boolean;
}

/** SKYDECK_HOME, else ~/.skydeck: config.yaml, user_hash and the local server's data live here. */
export function skydeckHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.SKYDECK_HOME || join(homedir(), '.skydeck');
}

/** The endpoint in SKYDECK_HOME/config.yaml (`api_server: {endpoint: ...}`), if any. */
export function configuredEndpoint(home: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(home, 'config.yaml'), 'utf8');
  } catch {
    return undefined;
  }
  const config = parse(text) as { api_server?: { endpoint?: unknown } } | null;
  const endpoint = config?.api_server?.endpoint;
  return typeof endpoint === 'string' && endpoint.trim() !== '' ? endpoint.trim() : undefined;
}

/** Setting, else SKYDECK_API_SERVER_ENDPOINT, else SKYDECK_HOME/config.yaml, else the local default. */
export function resolveEndpoint(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): Endpoint {
  if (setting?.trim()) return parseEndpoint(setting.trim(), 'setting');
  if (env.SKYDECK_API_SERVER_ENDPOINT?.trim()) return parseEndpoint(env.SKYDECK_API_SERVER_ENDPOINT.trim(), 'environment');
  const fromConfig = configuredEndpoint(skydeckHome(env));
  if (fromConfig) return parseEndpoint(fromConfig, 'config');
  return parseEndpoint(DEFAULT_ENDPOINT, 'default');
}

export class EndpointError extends Error {}

export function parseEndpoint(text: string, source: EndpointSource): Endpoint {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new EndpointError(`not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EndpointError(`expected http:// or https://, got ${url.protocol}`);
  const basicAuth = url.username ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { url: url.toString().replace(/\/+$/, ''), source, basicAuth, local: isLoopbackHost(url.hostname) };
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The WebSocket URL of an endpoint's `/api/ws`. */
export function webSocketUrl(endpoint: string): string {
  return endpoint.replace(/^http/, 'ws') + '/api/ws';
}
