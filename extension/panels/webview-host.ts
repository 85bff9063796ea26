// A webview panel that speaks the typed protocol: strict CSP with a nonce, scripts only from dist/,
// nothing posted before the page says `ready`, and everything it owns disposed with the panel.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ExtensionToWebview, PanelKind, WebviewCall, WebviewCalls, WebviewMethod, WebviewToExtension } from '../../protocol/webview';
import { Disposable } from '../disposable';

export abstract class WebviewHost extends Disposable {
  protected readonly panel: vscode.WebviewPanel;
  private ready = false;
  private queue: ExtensionToWebview[] = [];
  private readonly closed = this._register(new vscode.EventEmitter<void>());
  readonly onDidClose = this.closed.event;

  /** Whether the panel is showing (its tab is the active one of its group). */
  get visible(): boolean {
    return this.panel.visible;
  }

  constructor(extensionUri: vscode.Uri, kind: PanelKind, title: string, column = vscode.ViewColumn.Active) {
    super();
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel(`skydeck.${kind}`, title, column, {
      enableScripts: true,
      localResourceRoots: [dist, media],
    });
    this.panel.iconPath = vscode.Uri.joinPath(media, 'skydeck.svg');
    this.panel.webview.html = pageHtml(this.panel.webview, kind, title, dist, media);
    this._register(this.panel.webview.onDidReceiveMessage((m: WebviewToExtension) => this.receive(m)));
    this._register(
      this.panel.onDidDispose(() => {
        this.closed.fire();
        this.dispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  protected post(message: ExtensionToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  /** The page (re)loaded: send it everything it needs from scratch. */
  protected abstract onReady(): void | Promise<void>;
  protected abstract onMessage(message: Exclude<WebviewToExtension, { type: 'ready' } | WebviewCall>): void | Promise<void>;
  /** The calls this panel's page may make; one it does not answer is refused with a reply saying so. */
  protected readonly calls: { [M in WebviewMethod]?: (params: WebviewCalls[M]['params']) => Promise<WebviewCalls[M]['result']> } = {};

  private receive(message: WebviewToExtension): void {
    if (message.type === 'ready') {
      this.ready = true;
      const queued = this.queue.splice(0);
      void Promise.resolve(this.onReady()).then(() => queued.forEach((m) => this.post(m)));
      return;
    }
    if (message.type === 'call') return void this.answer(message);
    void this.onMessage(message);
  }

  private async answer(call: WebviewCall): Promise<void> {
    const handler = this.calls[call.method] as ((params: unknown) => Promise<WebviewCalls[WebviewMethod]['result']>) | undefined;
    try {
      if (!handler) throw new Error(`this panel does not answer ${call.method}`);
      this.post({ type: 'reply', replyTo: call.id, result: await handler(call.params) });
    } catch (err) {
      this.post({ type: 'reply', replyTo: call.id, error: (err as Error).message });
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
  }
}

function pageHtml(webview: vscode.Webview, kind: PanelKind, title: string, dist: vscode.Uri, media: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Lit adopts constructed style sheets (not limited by CSP); our own sheet comes from media/.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
  ].join('; ');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>${escapeHtml(title)}</title>
</head>
<body data-panel="${kind}">
<main id="app"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
