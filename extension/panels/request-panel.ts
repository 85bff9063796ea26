// The Request details panel: metadata, status timeline, the live log, follow/search in the page, and Cancel.
import * as vscode from 'vscode';
import type { RequestSummary } from '../../protocol/model';
import type { WebviewCall, WebviewToExtension } from '../../protocol/webview';
import { COMMANDS, SETTINGS } from '../command-ids';
import { shortId } from '../format';
import type { Services } from '../services';
import { Debouncer } from '../../client/debouncer';
import { WebviewHost } from './webview-host';

/** Log text is sent to the page in batches this far apart, so a fast log does not flood the channel. */
const LOG_BATCH_MS = 100;

export class RequestPanel extends WebviewHost {
  private logStream: vscode.Disposable | undefined;
  private readonly log = new Debouncer<string>(LOG_BATCH_MS, (parts) => this.post({ type: 'log', data: parts.join('') }));

  constructor(
    private readonly s: Services,
    readonly requestId: string,
  ) {
    super(s.context.extensionUri, 'request', `SkyDeck: request ${shortId(requestId)}`);
    this._register(
      s.requests.onDidChange((change) => {
        if (!change.updated.includes(requestId) && !change.added.includes(requestId)) return;
        const request = s.requests.get(requestId);
        if (request) this.post({ type: 'request-updated', request });
      }),
    );
    this._register({
      dispose: () => {
        this.logStream?.dispose();
        this.log.dispose();
      },
    });
  }

  protected async onReady(): Promise<void> {
    let request: RequestSummary | undefined = this.s.requests.get(this.requestId);
    const connection = this.s.session.connection;
    if (!request && connection) {
      request = await connection.client.getRequest(this.requestId).then(
        ({ body: _body, result: _result, ...summary }) => summary,
        () => undefined,
      );
    }
    if (!request || !connection) {
      this.post({ type: 'log', data: `request ${this.requestId} is not known to the server\n` });
      return;
    }
    this.panel.title = `SkyDeck: ${request.name} ${request.clusterName ?? ''} (${shortId(request.id)})`;
    this.post({ type: 'request-init', request, mine: this.s.requests.isMine(request) });
    this.logStream?.dispose();
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

  protected onMessage(message: Exclude<WebviewToExtension, { type: 'ready' } | WebviewCall>): void {
    if (message.type === 'cancel-request') void vscode.commands.executeCommand(COMMANDS.cancelRequest, message.requestId);
    else if (message.type === 'open-log-channel') void vscode.commands.executeCommand(COMMANDS.viewLogs, message.requestId);
  }
}
