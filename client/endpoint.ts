// Which API server a client talks to, and how: the URL without credentials, the auth header, a printable form.
import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml-parse';
import { DEFAULT_ENDPOINT } from '../protocol/wire';
import { ClientError } from './errors';
import { homePaths, type Env } from './home';

export interface Endpoint {
  /** Base URL with no credentials and no trailing slash, such as `http://127.0.0.1:46590`. */
  url: string;
  /** `Basic ...` when the configured URL carried user:password. Never print it. */
  authorization?: string;
  /** Whether the server is on this machine, so a client may start it. */
  local: boolean;
  /**
   * The owner's local server is reached over this Unix socket, never over TCP: the local token goes only
   * where no other OS user can listen (set with the local token by withCredentials).
   */
  localSocket?: string;
  /** Where the endpoint came from, for `api info` and error messages. */
  source: 'override' | 'env' | 'config' | 'default';
}

export interface ResolveOptions {
  env?: Env;
  home: string;
  /** An endpoint chosen above everything else (the extension's setting). */
  override?: string;
}

/** SKYDECK_API_SERVER_ENDPOINT, else `api_server.endpoint` in SKYDECK_HOME/config.yaml, else the local default. */
export function resolveEndpoint({ env = process.env, home, override }: ResolveOptions): Endpoint {
  if (override?.trim()) return parseEndpoint(override.trim(), 'override');
  const fromEnv = env.SKYDECK_API_SERVER_ENDPOINT?.trim();
  if (fromEnv) return parseEndpoint(fromEnv, 'env');
  const fromConfig = configuredEndpoint(homePaths(home).config);
  if (fromConfig) return parseEndpoint(fromConfig, 'config');
  return parseEndpoint(DEFAULT_ENDPOINT, 'default');
}

function configuredEndpoint(configPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    return undefined;
  }
  let config: unknown;
  try {
    config = parseYaml(text);
  } catch (err) {
    throw new ClientError('config_invalid', `${configPath} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const endpoint = (config as { api_server?: { endpoint?: unknown } } | null)?.api_server?.endpoint;
  if (endpoint === undefined || endpoint === null) return undefined;
  if (typeof endpoint !== 'string') throw new ClientError('config_invalid', `${configPath}: api_server.endpoint must be a URL string`);
  return endpoint.trim() || undefined;
}

export function parseEndpoint(raw: string, source: Endpoint['source']): Endpoint {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new ClientError('endpoint_invalid', `not a valid API server endpoint: ${redact(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError('endpoint_invalid', `API server endpoint must be http:// or https://, got ${url.protocol}//`);
  }
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  const base = url.toString().replace(/\/+$/, '');
  return { url: base, authorization, local: isLoopbackHost(url.hostname), source };
}

/** Loopback names and addresses: only for these may a client start the server itself. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A URL (or anything that looks like one) with any user:password replaced, safe to print. */
export function redact(text: string): string {
  return text.replace(/(\/\/)[^/@\s]*@/g, '$1***@');
}
