// The Request details panel: metadata, status timeline, the live log, follow/search in the page, and Cancel.
// The log streams only while the page is there: hiding the tab (VS Code then discards the page) stops the
// stream, and the page loaded when the tab is shown again gets the request and its log afresh.
import * as vscode from 'vscode';
import type { RequestSummary } from '../../protocol/model';
import type { WebviewCall, WebviewToExtension } from '../../protocol/webview';
import { ApiError } from '../../client/errors';
import { COMMANDS, SETTINGS } from '../command-ids';
import type { Connection } from '../connection/connection';
import { shortId } from '../format';
import type { Services } from '../services';
import { Debouncer } from '../../client/debouncer';
import { WebviewHost } from './webview-host';

/** Log text is sent to the page in batches this far apart, so a fast log does not flood the channel. */
const LOG_BATCH_MS = 100;

export class RequestPanel extends WebviewHost {
  private logStream: vscode.Disposable | undefined;
  private readonly log = new Debouncer<string>(LOG_BATCH_MS, (parts) => this.post({ type: 'log', data: parts.join('') }));
  /** The connection the page's request and log came from; another one (a new endpoint) sends them again. */
  private initFrom: Connection | undefined;

  /** A new panel for `requestId`, or the one VS Code `restored` after a window reload. */
  constructor(
    private readonly s: Services,
    readonly requestId: string,
    restored?: vscode.WebviewPanel,
  ) {
    super(s.context.extensionUri, 'request', `SkyDeck: request ${shortId(requestId)}`, { restored, page: { 'request-id': requestId } });
    this._register(
      s.requests.onDidChange((change) => {
        if (!change.updated.includes(requestId) && !change.added.includes(requestId)) return;
        const request = s.requests.get(requestId);
        if (request) this.post({ type: 'request-updated', request });
      }),
    );
    // A page that is there but has no request yet (restored before the connection), or one from an old connection.
    this._register(
      s.session.onDidChange(() => {
        const connection = s.session.connection;
        if (this.pageReady && connection?.state === 'connected' && connection !== this.initFrom) void this.init();
      }),
    );
    this._register({
      dispose: () => {
        this.stopLog();
        this.log.dispose();
      },
    });
  }

  protected onReady(): Promise<void> {
    return this.init();
  }

  /** Nobody sees the log of a hidden tab, and its page is gone: the next page streams it again from the server. */
  protected override onHidden(): void {
    this.stopLog();
  }

  /** Sends the page the request and streams its log, once connected (session changes call it again). */
  private async init(): Promise<void> {
    this.stopLog();
    const connection = this.s.session.connection;
    this.initFrom = connection?.state === 'connected' ? connection : undefined;
    if (!connection || !this.initFrom) return;
    // From the server, not the requests model: just after a new connection the model still holds the old server's.
    const request: RequestSummary | undefined | 'unknown' = await connection.client.getRequest(this.requestId).then(
      ({ body: _body, result: _result, ...summary }) => summary,
      (err: Error) => {
        if (err instanceof ApiError && err.status === 404) return 'unknown' as const;
        this.post({ type: 'log', data: `[cannot read request ${this.requestId}: ${err.message}]\n` });
        return undefined;
      },
    );
    // The page went (its tab was hidden) or a newer init started while the server answered.
    if (!this.pageReady || this.initFrom !== connection || this.logStream) return;
    if (request === 'unknown') return this.post({ type: 'request-unknown', requestId: this.requestId });
    if (!request) return;
    this.panel.title = `SkyDeck: ${request.name} ${request.clusterName ?? ''} (${shortId(request.id)})`;
    this.post({ type: 'request-init', request, mine: this.s.requests.isMine(request) });
    const tail = vscode.workspace.getConfiguration('skydeck').get<number>(SETTINGS.logTail, 0) || undefined;
    this.logStream = connection.followLog(
      this.requestId,
      {
        onData: (text) => this.log.add(text),
        onEnd: (status) => {
          this.log.flush();
          this.post({ type: 'log-end', status });
        },
        onError: (message) => this.log.add(`\n[cannot stream this log: ${message}]\n`),
      },
      { follow: true, tail },
    );
  }

  /** Stops the stream; what it had not sent yet goes to a page that is gone (dropped) or is about to start afresh. */
  private stopLog(): void {
    this.logStream?.dispose();
    this.logStream = undefined;
    this.log.flush();
  }

  protected onMessage(message: Exclude<WebviewToExtension, { type: 'ready' } | WebviewCall>): void {
    if (message.type === 'cancel-request') void vscode.commands.executeCommand(COMMANDS.cancelRequest, message.requestId);
    else if (message.type === 'open-log-channel') void vscode.commands.executeCommand(COMMANDS.viewLogs, message.requestId);
  }
}
