// The one place that sets the context keys menus and welcome views match on.
import * as vscode from 'vscode';
import type { ConnectionState } from './connection/connection';

interface ContextKeys {
  'skydeck.connection': ConnectionState;
  'skydeck.localServer': boolean;
  'skydeck.requests.showFinished': boolean;
  'skydeck.requests.allUsers': boolean;
  'skydeck.activeEditorIsTask': boolean;
}

const current = new Map<string, unknown>();

export function setContext<K extends keyof ContextKeys>(key: K, value: ContextKeys[K]): void {
  if (current.get(key) === value) return;
  current.set(key, value);
  void vscode.commands.executeCommand('setContext', key, value);
}
