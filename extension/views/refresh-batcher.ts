// Collects tree-node refreshes and fires them together, so a burst of events redraws once.
import * as vscode from 'vscode';
import { Debouncer } from '../../client/debouncer';

/** Short enough that a status change shows well within a second. */
const BATCH_MS = 120;

export class RefreshBatcher<T> implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<T | T[] | undefined>();
  readonly event = this.emitter.event;
  /** `undefined` stands for the whole tree. */
  private readonly batch = new Debouncer<T | undefined>(BATCH_MS, (nodes) => {
    this.emitter.fire(nodes.includes(undefined) ? undefined : [...new Set(nodes as T[])]);
  });

  /** Redraws these nodes, or the whole tree when none are given. */
  refresh(nodes?: readonly T[]): void {
    if (nodes === undefined) this.batch.add(undefined);
    else for (const n of nodes) this.batch.add(n);
  }

  dispose(): void {
    this.batch.dispose();
    this.emitter.dispose();
  }
}
