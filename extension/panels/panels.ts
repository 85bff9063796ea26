// Keeps one Launch panel and one Request details panel per request, and closes them all on deactivate.
// The panel modules (and the form rules they share with the page) load when a panel first opens.
import type * as vscode from 'vscode';
import { Disposable } from '../disposable';
import type { Services } from '../services';
import type { LaunchPanel } from './launch-panel';
import type { RequestPanel } from './request-panel';

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

  /** Set once activate() has made every service (the panels need them, and they hold the panels). */
  attach(services: Services): void {
    this.services = services;
  }

  async showLaunch(taskFile?: vscode.Uri): Promise<void> {
    if (this.launchPanel) return this.launchPanel.useTaskFile(taskFile);
    const { LaunchPanel } = await import('./launch-panel');
    const panel = new LaunchPanel(this.services!, taskFile);
    this.launchPanel = panel;
    panel.onDidClose(() => (this.launchPanel = undefined));
  }

  isRequestInView(requestId: string): boolean {
    return this.requestPanels.get(requestId)?.visible ?? false;
  }

  async showRequest(requestId: string): Promise<void> {
    const open = this.requestPanels.get(requestId);
    if (open) return open.reveal();
    const { RequestPanel } = await import('./request-panel');
    const panel = new RequestPanel(this.services!, requestId);
    this.requestPanels.set(requestId, panel);
    panel.onDidClose(() => this.requestPanels.delete(requestId));
  }
}
