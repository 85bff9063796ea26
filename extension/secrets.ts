// Credentials per server, kept in VS Code's SecretStorage (never in settings or logs).
import type * as vscode from 'vscode';
import type { SavedCredentials } from '../client/auth/credentials';

/** The same shapes the CLI saves with `skydeck api login`. */
export type Credentials = SavedCredentials;

const key = (endpoint: string) => `skydeck.credentials:${new URL(endpoint).origin}`;

export class CredentialStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(endpoint: string): Promise<Credentials | undefined> {
    const text = await this.secrets.get(key(endpoint));
    if (!text) return undefined;
    try {
      return JSON.parse(text) as Credentials;
    } catch {
      return undefined;
    }
  }

  set(endpoint: string, credentials: Credentials): Thenable<void> {
    return this.secrets.store(key(endpoint), JSON.stringify(credentials));
  }
}
