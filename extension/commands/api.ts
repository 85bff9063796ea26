// Getting a connected client for a command, and reporting API errors to the user the same way everywhere.
import * as vscode from 'vscode';
import type { ApiClient } from '../../client/api-client';
import { ApiError } from '../../client/errors';
import type { Services } from '../services';
import { COMMANDS } from '../command-ids';

/** The client of a live connection, or undefined after telling the user why there is none. */
export function connectedClient(s: Services): ApiClient | undefined {
  const connection = s.session.connection;
  if (connection && connection.state === 'connected') return connection.client;
  const why = connection?.lastError ? `: ${connection.lastError}` : '';
  void vscode.window.showErrorMessage(`SkyDeck: not connected to the API server${why}`, 'Reconnect', 'Connect to API Server...').then((pick) => {
    if (pick === 'Reconnect') void vscode.commands.executeCommand(COMMANDS.reconnect);
    if (pick === 'Connect to API Server...') void vscode.commands.executeCommand(COMMANDS.connect);
  });
  return undefined;
}

export function showApiError(s: Services, what: string, err: unknown): void {
  const message = err instanceof ApiError ? `${err.message} (${err.code})` : String((err as Error)?.message ?? err);
  s.logger.warn(`${what}: ${message}`);
  void vscode.window.showErrorMessage(`SkyDeck: ${what}: ${message}`);
}
