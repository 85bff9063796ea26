// Server commands: Connect to API Server..., Use Local Server, Reconnect, Server Info, Open Dashboard, Stop Local Server.
import * as vscode from 'vscode';
import { ApiClient } from '../../client/api-client';
import { localTokenPath } from '../../client/auth/local-token';
import { resolveIdentity } from '../../client/identity';
import { stopLocalServer } from '../../client/local-server';
import { splitCredentials } from '../connection/endpoint';
import { externalUri } from '../external-uri';
import { duration } from '../format';
import type { Services } from '../services';
import { connectedClient } from './api';
import { CredentialStore } from '../secrets';

export async function connect(s: Services): Promise<void> {
  const current = s.session.connection?.endpoint;
  const text = await vscode.window.showInputBox({
    title: 'SkyDeck: Connect to API Server',
    prompt: 'Endpoint of a SkyDeck API server. Credentials in the URL (https://user:password@host) are moved to the secret store.',
    placeHolder: 'https://skydeck.example.com',
    value: current?.source === 'override' ? current.url : '',
    ignoreFocusOut: true,
    validateInput: (value) => {
      if (!value.trim()) return undefined;
      try {
        splitCredentials(value.trim());
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  if (text === undefined) return;
  await s.session.useEndpoint(text.trim() || undefined);
  if (s.session.state === 'unauthorized') await signIn(s);
}

/** Asks for what the server's auth scheme needs (health answers without auth) and stores it. */
async function signIn(s: Services): Promise<void> {
  const endpoint = s.session.connection?.endpoint;
  if (!endpoint) return;
  const anonymous = new ApiClient({ endpoint: { ...endpoint, authorization: undefined }, user: resolveIdentity(s.session.home) });
  const auth = await anonymous.health(5_000).then(
    (h) => h.auth,
    () => 'basic' as const,
  );
  anonymous.close();
  const store = new CredentialStore(s.context.secrets);
  if (auth === 'local-token') {
    // Nothing to type: the token is a file only the server's OS user can read.
    void vscode.window.showErrorMessage(
      `SkyDeck: ${endpoint.url} accepts only its local token (${localTokenPath(s.session.home)}), which this window cannot read. Run VS Code as the user who started the server, or connect to a team server.`,
    );
    return;
  }
  if (auth === 'token') {
    const token = await vscode.window.showInputBox({ title: `SkyDeck: token for ${endpoint.url}`, password: true, ignoreFocusOut: true });
    if (!token) return;
    await store.set(endpoint.url, { kind: 'token', token });
  } else {
    const user = await vscode.window.showInputBox({ title: `SkyDeck: user name for ${endpoint.url}`, ignoreFocusOut: true });
    if (!user) return;
    const password = await vscode.window.showInputBox({ title: `SkyDeck: password for ${user}`, password: true, ignoreFocusOut: true });
    if (password === undefined) return;
    await store.set(endpoint.url, { kind: 'basic', user, password });
  }
  await s.session.restart();
  if (s.session.state === 'unauthorized') void vscode.window.showErrorMessage(`SkyDeck: ${endpoint.url} did not accept those credentials.`);
}

export async function useLocalServer(s: Services): Promise<void> {
  await s.session.useEndpoint(undefined);
}

export async function reconnect(s: Services): Promise<void> {
  s.session.allowAutoStart();
  if (s.session.state === 'unauthorized') return signIn(s);
  await s.session.restart();
}

export async function serverInfo(s: Services): Promise<void> {
  const connection = s.session.connection;
  if (!connection) return;
  const health = connection.health;
  const lines = [`Endpoint: ${connection.endpoint.url} (from ${connection.endpoint.source})`, `State: ${connection.state}`];
  if (health) {
    lines.push(
      `Version: ${health.version} (${health.commit}), API ${health.apiVersion}`,
      `You: ${health.user.name} (${health.user.id})`,
      `Auth: ${health.auth}`,
      `Up for: ${duration(Date.now() - health.startedAt)}`,
    );
  }
  if (connection.lastError && connection.state !== 'connected') lines.push(`Last error: ${connection.lastError}`);
  const actions = connection.state === 'connected' ? ['Connect to Another Server...'] : ['Reconnect', 'Connect to Another Server...'];
  if (connection.endpoint.local) actions.push('Stop Local Server');
  const pick = await vscode.window.showInformationMessage('SkyDeck API server', { modal: true, detail: lines.join('\n') }, ...actions);
  if (pick === 'Reconnect') await reconnect(s);
  else if (pick === 'Connect to Another Server...') await connect(s);
  else if (pick === 'Stop Local Server') await stopLocal(s);
}

/** Opens the server's dashboard in the browser, signed in through a one-time link made with this window's credentials. */
export async function openDashboard(s: Services): Promise<void> {
  const client = connectedClient(s);
  if (!client) return;
  const link = await client.dashboardLink();
  // The link's one-time code is a credential for a minute: logged without it.
  const opened = await vscode.env.openExternal(await externalUri(link));
  s.logger.info(`dashboard ${link.replace(/code=[^&]+/, 'code=...')} ${opened ? 'opened' : 'not opened'} in the browser`);
}

export async function stopLocal(s: Services): Promise<void> {
  const connection = s.session.connection;
  if (!connection) return;
  // Stopped on purpose: do not start it again until the user reconnects.
  s.session.suppressAutoStart();
  const { pid } = await stopLocalServer(connection.client, s.session.home);
  if (pid) void vscode.window.showInformationMessage(`SkyDeck: stopped the local API server (pid ${pid}).`);
  else void vscode.window.showWarningMessage('SkyDeck: no local API server is recorded as running.');
}
