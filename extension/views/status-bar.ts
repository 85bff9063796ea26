// The status-bar item: which server, who you are, and whether the connection is up. Click: server info.
import * as vscode from 'vscode';
import { COMMANDS } from '../command-ids';
import { Disposable } from '../disposable';
import type { ServerSession } from '../server-session';

const LOOK: Record<string, { icon: string; text: string; background?: string }> = {
  connecting: { icon: '$(sync~spin)', text: 'connecting' },
  connected: { icon: '$(cloud)', text: '' },
  reconnecting: { icon: '$(sync~spin)', text: 'reconnecting', background: 'statusBarItem.warningBackground' },
  unreachable: { icon: '$(debug-disconnect)', text: 'unreachable', background: 'statusBarItem.errorBackground' },
  unauthorized: { icon: '$(lock)', text: 'sign in', background: 'statusBarItem.warningBackground' },
};

export class StatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('skydeck.status', vscode.StatusBarAlignment.Left, 10));

  constructor(private readonly session: ServerSession) {
    super();
    this.item.name = 'SkyDeck API Server';
    this.item.command = COMMANDS.serverInfo;
    this._register(session.onDidChange(() => this.update()));
    this.update();
    this.item.show();
  }

  private update(): void {
    const connection = this.session.connection;
    const state = this.session.state;
    const look = LOOK[state]!;
    const host = connection ? new URL(connection.endpoint.url).host : '';
    const user = state === 'connected' ? connection?.health?.user.name : undefined;
    this.item.text = `${look.icon} SkyDeck${look.text ? ` ${look.text}` : ''}${user ? ` · ${user}` : ''}`;
    this.item.tooltip = `SkyDeck API server ${host}: ${state}${user ? ` as ${user}` : ''}${connection?.lastError && state !== 'connected' ? `\n${connection.lastError}` : ''}\nClick for server info`;
    this.item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
    this.item.accessibilityInformation = { label: `SkyDeck ${state} ${host}` };
  }
}
