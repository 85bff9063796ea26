// `SkyDeck: Open Terminal`: a shell on a cluster node in a VS Code terminal. The terminal is a
// Pseudoterminal over the client's TerminalSession: VS Code's own terminal does the emulation, the
// PTY is on the node; keys (Ctrl+C included) go through as bytes, resizes as a control message.
import * as vscode from 'vscode';
import type { ApiClient } from '../../client/api-client';
import { TerminalSession } from '../../client/terminal';
import { DisposableStore } from '../../client/lifecycle';

export function openNodeTerminal(client: ApiClient, cluster: string, node: number): vscode.Terminal {
  const terminal = vscode.window.createTerminal({
    name: node === 0 ? `SkyDeck: ${cluster}` : `SkyDeck: ${cluster} node ${node}`,
    iconPath: new vscode.ThemeIcon('terminal'),
    pty: new NodePseudoterminal(client, cluster, node),
  });
  terminal.show();
  return terminal;
}

class NodePseudoterminal implements vscode.Pseudoterminal {
  private readonly output = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number | void>();
  private readonly store = new DisposableStore();
  private session: TerminalSession | undefined;
  /** After a failure the message stays on screen until a key is pressed. */
  private failed = false;
  readonly onDidWrite = this.output.event;
  readonly onDidClose = this.closed.event;

  constructor(
    private readonly client: ApiClient,
    private readonly cluster: string,
    private readonly node: number,
  ) {
    this.store.add(this.output);
    this.store.add(this.closed);
  }

  open(size: vscode.TerminalDimensions | undefined): void {
    const session = new TerminalSession(this.client, { cluster: this.cluster, node: this.node, tty: { cols: size?.columns ?? 80, rows: size?.rows ?? 24 } });
    this.session = this.store.add(session);
    const decoder = new TextDecoder();
    session.onData((chunk) => this.output.fire(decoder.decode(chunk, { stream: true })));
    session.onEnd((end) => {
      if (end.exitCode !== undefined && !end.error) return this.closed.fire(end.exitCode);
      this.failed = true;
      const why = end.error?.message ?? 'the session ended';
      this.output.fire(`\r\n\x1b[31m${why.replace(/\n/g, '\r\n')}\x1b[0m\r\n\r\nPress any key to close this terminal.\r\n`);
    });
  }

  handleInput(data: string): void {
    if (this.failed) return this.closed.fire(1);
    this.session?.write(data);
  }

  setDimensions(size: vscode.TerminalDimensions): void {
    this.session?.resize(size.columns, size.rows);
  }

  /** The user closed the terminal: the server hangs up the shell. */
  close(): void {
    this.store.dispose();
  }
}
