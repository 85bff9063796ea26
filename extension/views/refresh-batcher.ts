// Collects tree-node refreshes and fires them together, so a burst of events redraws once.
import * as vscode from 'vscode';

/** Short enough that a status change shows well within a second. */
const BATCH_MS = 120;

export class RefreshBatcher<T> implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<T | T[] | undefined>();
  readonly event = this.emitter.event;
  private readonly pending = new Set<T>();
  private everything = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Redraws these nodes, or the whole tree when none are given. */
  refresh(nodes?: readonly T[]): void {
    if (nodes === undefined) this.everything = true;
    else for (const n of nodes) this.pending.add(n);
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.emitter.dispose();
  }

  private flush(): void {
    this.timer = undefined;
    if (this.everything) this.emitter.fire(undefined);
    else if (this.pending.size > 0) this.emitter.fire([...this.pending]);
    this.everything = false;
    this.pending.clear();
  }
}
