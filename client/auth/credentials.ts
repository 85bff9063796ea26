// Credentials a client sends, by endpoint: user:password in the URL, else SKYDECK_API_TOKEN, else what
// `skydeck api login` saved in SKYDECK_HOME/credentials.json (mode 0600), else, for a server on this
// machine, the local server's token.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Endpoint } from '../endpoint';
import { ClientError } from '../errors';
import { homePaths, type Env } from '../home';
import { localSocketPath, untrustedSocketFolder } from '../../shared/local-socket';
import { ensureLocalToken } from './local-token';

export type SavedCredentials = { kind: 'basic'; user: string; password: string } | { kind: 'token'; token: string };

interface CredentialsFile {
  endpoints: Record<string, SavedCredentials>;
}

export const credentialsPath = (home: string) => join(home, 'credentials.json');

export function authorizationOf(credentials: SavedCredentials): string {
  return credentials.kind === 'basic' ? `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}` : `Bearer ${credentials.token}`;
}

function readFile(home: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(credentialsPath(home), 'utf8');
  } catch {
    return { endpoints: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    return { endpoints: parsed.endpoints && typeof parsed.endpoints === 'object' ? parsed.endpoints : {} };
  } catch {
    throw new ClientError('credentials_invalid', `${credentialsPath(home)} is not valid JSON; remove it and log in again (skydeck api login)`);
  }
}

function writeFile(home: string, file: CredentialsFile): void {
  const path = credentialsPath(home);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(aside, path);
  } finally {
    rmSync(aside, { force: true });
  }
}

export function savedCredentials(home: string, url: string): SavedCredentials | undefined {
  return readFile(home).endpoints[url];
}

export function saveCredentials(home: string, url: string, credentials: SavedCredentials): void {
  const file = readFile(home);
  file.endpoints[url] = credentials;
  writeFile(home, file);
}

/** Forgets the endpoint's credentials; says whether there were any. */
export function forgetCredentials(home: string, url: string): boolean {
  const file = readFile(home);
  if (!(url in file.endpoints)) return false;
  delete file.endpoints[url];
  writeFile(home, file);
  return true;
}

/** The endpoint with the Authorization header it should send, found as this file's header says. */
export function withCredentials(endpoint: Endpoint, home: string, env: Env = process.env): Endpoint {
  if (endpoint.authorization) return endpoint;
  const token = env.SKYDECK_API_TOKEN?.trim();
  if (token) return { ...endpoint, authorization: `Bearer ${token}` };
  const saved = savedCredentials(home, endpoint.url);
  if (saved) return { ...endpoint, authorization: authorizationOf(saved) };
  if (!endpoint.local) return endpoint;
  // The local token goes only to a socket in the owner's own folder: whoever listens on the TCP port
  // (another OS user may bind it first) never sees it.
  const url = new URL(endpoint.url);
  const localSocket = localSocketPath(homePaths(home).serverDir, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
  const untrusted = untrustedSocketFolder(localSocket);
  if (untrusted) throw new ClientError('local_server_untrusted', `will not send the local token: ${untrusted}`);
  const local = ensureLocalToken(home);
  return local ? { ...endpoint, authorization: `Bearer ${local}`, localSocket } : endpoint;
}
