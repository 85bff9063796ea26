// Keeps one Launch panel and one Request details panel per request, brings them back after a window
// reload (a serializer per viewType restores each from the state its page saved), and closes them all on
// deactivate. The panel modules (and the form rules they share with the page) load when a panel first opens.
import * as vscode from 'vscode';
import { requestDetailsState } from '../../protocol/webview-state';
import { Disposable } from '../disposable';
import type { Services } from '../services';
import type { LaunchPanel } from './launch-panel';
import type { RequestPanel } from './request-panel';
import { panelViewType } from './view-types';

export class Panels extends Disposable {
  private launchPanel: LaunchPanel | undefined;
  private readonly requestPanels = new Map<string, RequestPanel>();
  private services: Services | undefined;

  constructor() {
    super();
    this._register({
      dispose: () => {
        this.launchPanel?.dispose();
        this.requestPanels.forEach((p) => p.dispose());
      },
    });
  }

  /**
   * Set once activate() has made every service (the panels need them, and they hold the panels). The
   * serializers are registered here, during activation, as VS Code requires for it to restore the panels.
   */
  attach(services: Services): void {
    this.services = services;
    this._register(vscode.window.registerWebviewPanelSerializer(panelViewType('launch'), { deserializeWebviewPanel: (panel) => this.restoreLaunch(panel) }));
    this._register(vscode.window.registerWebviewPanelSerializer(panelViewType('request'), { deserializeWebviewPanel: (panel, state) => this.restoreRequest(panel, state) }));
  }

  async showLaunch(taskFile?: vscode.Uri): Promise<void> {
    if (this.launchPanel) return this.launchPanel.useTaskFile(taskFile);
    const { LaunchPanel } = await import('./launch-panel');
    if (this.launchPanel) return (this.launchPanel as LaunchPanel).useTaskFile(taskFile);
    this.keepLaunch(new LaunchPanel(this.services!, { taskFile }));
  }

  isRequestInView(requestId: string): boolean {
    return this.requestPanels.get(requestId)?.visible ?? false;
  }

  async showRequest(requestId: string): Promise<void> {
    const open = this.requestPanels.get(requestId);
    if (open) return open.reveal();
    const { RequestPanel } = await import('./request-panel');
    if (this.requestPanels.has(requestId)) return this.requestPanels.get(requestId)!.reveal();
    this.keepRequest(new RequestPanel(this.services!, requestId));
  }

  /** The Launch form VS Code kept over a window reload: the page restores its entries from its own state. */
  private async restoreLaunch(restored: vscode.WebviewPanel): Promise<void> {
    const { LaunchPanel } = await import('./launch-panel');
    // One form per window: one opened meanwhile wins.
    if (this.launchPanel) return restored.dispose();
    this.keepLaunch(new LaunchPanel(this.services!, { restored }));
  }

  /** A Request details panel VS Code kept over a window reload, for the request its page's state names. */
  private async restoreRequest(restored: vscode.WebviewPanel, state: unknown): Promise<void> {
    const { requestId } = requestDetailsState(state);
    if (!requestId) {
      // Nothing says which request it showed (a page of an older version, or a corrupt state): it can only be empty.
      this.services!.logger.warn('a Request details panel came back from the window reload without its request id: closed it');
      return restored.dispose();
    }
    const { RequestPanel } = await import('./request-panel');
    if (this.requestPanels.has(requestId)) return restored.dispose();
    this.keepRequest(new RequestPanel(this.services!, requestId, restored));
  }

  private keepLaunch(panel: LaunchPanel): void {
    this.launchPanel = panel;
    panel.onDidClose(() => {
      if (this.launchPanel === panel) this.launchPanel = undefined;
    });
  }

  private keepRequest(panel: RequestPanel): void {
    this.requestPanels.set(panel.requestId, panel);
    panel.onDidClose(() => {
      if (this.requestPanels.get(panel.requestId) === panel) this.requestPanels.delete(panel.requestId);
    });
  }
}
