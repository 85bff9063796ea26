// The endpoint the extension connects to: client/'s resolution (as the CLI does it) with the
// `skydeck.apiServerEndpoint` setting on top, and URL credentials split off for SecretStorage.
import { parseEndpoint, resolveEndpoint, type Endpoint } from '../../client/endpoint';
import type { Env } from '../../client/home';
import type { Credentials } from '../secrets';

export interface ResolvedEndpoint {
  endpoint: Endpoint;
  /** user:password that rode in the URL; the caller moves them to SecretStorage. */
  urlCredentials?: Extract<Credentials, { kind: 'basic' }>;
}

/** Setting, else SKYDECK_API_SERVER_ENDPOINT, else SKYDECK_HOME/config.yaml, else the local default. */
export function resolveExtensionEndpoint(setting: string | undefined, home: string, env: Env = process.env): ResolvedEndpoint {
  const endpoint = resolveEndpoint({ env, home, override: setting });
  return { endpoint, urlCredentials: setting?.trim() ? basicCredentials(setting.trim()) : undefined };
}

/** The endpoint of text a user typed, without credentials, and the credentials it carried. */
export function splitCredentials(text: string): ResolvedEndpoint {
  const endpoint = parseEndpoint(text, 'override');
  return { endpoint: { ...endpoint, authorization: undefined }, urlCredentials: basicCredentials(text) };
}

function basicCredentials(text: string): Extract<Credentials, { kind: 'basic' }> | undefined {
  try {
    const url = new URL(text.includes('://') ? text : `http://${text}`);
    if (!url.username && !url.password) return undefined;
    return { kind: 'basic', user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    return undefined;
  }
}
