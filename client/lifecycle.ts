// Lifecycle building blocks shared by the client library and the extension (shaped like VS Code's own,
// so a vscode.Disposable fits wherever a Disposable is asked for, and the other way round).

export interface Disposable {
  dispose(): unknown;
}

export function toDisposable(dispose: () => unknown): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      dispose();
    },
  };
}

/** Disposes everything added to it, last added first; what is added after disposal is disposed at once. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) safeDispose(item);
    else this.items.push(item);
    return item;
  }

  /** Disposes what it holds but stays usable. */
  clear(): void {
    // Later additions may depend on earlier ones.
    for (const item of this.items.splice(0).reverse()) safeDispose(item);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clear();
  }
}

/** Holds at most one value (the current connection, say): setting a new one disposes the old. */
export class MutableDisposable<T extends Disposable> implements Disposable {
  private current: T | undefined;
  private disposed = false;

  get value(): T | undefined {
    return this.current;
  }

  set value(next: T | undefined) {
    if (next === this.current) return;
    const old = this.current;
    this.current = this.disposed ? undefined : next;
    if (old) safeDispose(old);
    if (this.disposed && next) safeDispose(next);
  }

  clear(): void {
    this.value = undefined;
  }

  dispose(): void {
    this.clear();
    this.disposed = true;
  }
}

function safeDispose(item: Disposable): void {
  try {
    item.dispose();
  } catch {
    // one failing dispose must not leak the rest
  }
}
