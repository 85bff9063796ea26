// Tells how a request launched from this window ended when its output is not in view: its log channel is
// not the one the Output panel shows, its details panel is hidden, or the window is not focused. A setting
// (skydeck.notifyWhenRequestsFinish) turns it off.
import * as vscode from 'vscode';
import { isRequestFinished, type RequestSummary } from '../../protocol/model';
import { SETTINGS } from '../command-ids';
import { Disposable } from '../disposable';
import { requestLabel } from '../format';
import type { Services } from '../services';

export class FinishedRequestNotifier extends Disposable {
  /** Requests submitted from this window whose end has not been seen yet. */
  private readonly watched = new Set<string>();

  constructor(private readonly s: Pick<Services, 'requests' | 'logs' | 'panels' | 'logger'>) {
    super();
    this._register(
      s.requests.onDidChange((change) => {
        for (const id of [...change.added, ...change.updated]) {
          const request = this.watched.has(id) ? s.requests.get(id) : undefined;
          if (!request || !isRequestFinished(request.status)) continue;
          this.watched.delete(id);
          const inView = this.outputInView(id);
          s.logger.info(`request ${id} ended ${request.status}; its output is ${inView ? 'in view: no notification' : 'out of view: notifying'}`);
          if (!inView) void this.notify(request);
        }
      }),
    );
  }

  /** Called by the launch paths right after the server accepted a request. */
  watch(requestId: string): void {
    const known = this.s.requests.get(requestId);
    if (known && isRequestFinished(known.status)) return;
    this.watched.add(requestId);
  }

  private outputInView(requestId: string): boolean {
    return vscode.window.state.focused && (this.s.logs.isInView(requestId) || this.s.panels.isRequestInView(requestId));
  }

  private async notify(r: RequestSummary): Promise<void> {
    if (!vscode.workspace.getConfiguration('skydeck').get<boolean>(SETTINGS.notifyFinished, true)) return;
    const label = requestLabel(r);
    let pick: string | undefined;
    if (r.status === 'SUCCEEDED') pick = await vscode.window.showInformationMessage(`SkyDeck: ${label} succeeded.`, 'View Logs');
    else if (r.status === 'CANCELLED') pick = await vscode.window.showWarningMessage(`SkyDeck: ${label} was cancelled.`, 'View Logs');
    else pick = await vscode.window.showErrorMessage(`SkyDeck: ${label} failed${r.error ? `: ${r.error.message}` : '.'}`, 'View Logs', 'Show Error');
    if (pick === 'View Logs') this.s.logs.show(r, { preserveFocus: false });
    else if (pick === 'Show Error') await this.s.panels.showRequest(r.id);
  }
}
