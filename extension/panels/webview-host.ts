// A webview panel that speaks the typed protocol: strict CSP with a nonce, scripts only from dist/,
// nothing posted while there is no page to receive it, and everything it owns disposed with the panel.
// VS Code discards the page of a hidden panel (no retainContextWhenHidden, as it advises) and loads it
// afresh when the tab is shown again; the new page says `ready` and gets everything from scratch.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ExtensionToWebview, PanelKind, WebviewCall, WebviewCalls, WebviewMethod, WebviewToExtension } from '../../protocol/webview';
import { Disposable } from '../disposable';
import { panelViewType } from './view-types';

export abstract class WebviewHost extends Disposable {
  protected readonly panel: vscode.WebviewPanel;
  /** Whether a page is loaded that said `ready`: from then until its tab is hidden (VS Code then discards it). */
  private ready = false;
  private readonly closed = this._register(new vscode.EventEmitter<void>());
  readonly onDidClose = this.closed.event;

  /** Whether the panel is showing (its tab is the active one of its group). */
  get visible(): boolean {
    return this.panel.visible;
  }

  /**
   * Opens a new panel, or takes over `restored`, the one VS Code brought back after a window reload (its
   * serializer's), loading the page into it again; the page finds its saved state with getState.
   * `page` is written into the page's body as data attributes (what the page must know before any message).
   */
  constructor(extensionUri: vscode.Uri, kind: PanelKind, title: string, options: { restored?: vscode.WebviewPanel; page?: Record<string, string> } = {}) {
    super();
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    const webviewOptions = { enableScripts: true, localResourceRoots: [dist, media] };
    if (options.restored) {
      // It keeps the title it had (a request's name and cluster), which the page's init may refresh.
      this.panel = options.restored;
      this.panel.webview.options = webviewOptions;
    } else {
      this.panel = vscode.window.createWebviewPanel(panelViewType(kind), title, vscode.ViewColumn.Active, webviewOptions);
    }
    this.panel.iconPath = vscode.Uri.joinPath(media, 'skydeck.svg');
    this._register(this.panel.webview.onDidReceiveMessage((m: WebviewToExtension) => this.receive(m)));
    this._register(
      this.panel.onDidChangeViewState(() => {
        if (this.panel.visible || !this.ready) return;
        this.ready = false;
        this.onHidden();
      }),
    );
    this.panel.webview.html = pageHtml(this.panel.webview, kind, title, dist, media, options.page ?? {});
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

  /** Whether the page is there and said `ready` (what is posted otherwise is dropped: onReady sends it all again). */
  protected get pageReady(): boolean {
    return this.ready;
  }

  protected post(message: ExtensionToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  /** The page (re)loaded: send it everything it needs from scratch. */
  protected abstract onReady(): void | Promise<void>;
  /** The tab was hidden and VS Code discarded the page: stop feeding it until the next onReady. */
  protected onHidden(): void {}
  protected abstract onMessage(message: Exclude<WebviewToExtension, { type: 'ready' } | WebviewCall>): void | Promise<void>;
  /** The calls this panel's page may make; one it does not answer is refused with a reply saying so. */
  protected readonly calls: { [M in WebviewMethod]?: (params: WebviewCalls[M]['params']) => Promise<WebviewCalls[M]['result']> } = {};

  private receive(message: WebviewToExtension): void {
    if (message.type === 'ready') {
      this.ready = true;
      void this.onReady();
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

function pageHtml(webview: vscode.Webview, kind: PanelKind, title: string, dist: vscode.Uri, media: vscode.Uri, page: Record<string, string>): string {
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
<body data-panel="${kind}"${Object.entries(page).map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`).join('')}>
<main id="app"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
