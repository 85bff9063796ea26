// One debouncer for every burst the client side batches (tree refreshes, log text for an output channel or
// a panel): values collect from the first one for `delayMs`, then go out together in one call.
import type { Disposable } from './lifecycle';

export class Debouncer<T> implements Disposable {
  private pending: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly delayMs: number,
    private readonly deliver: (values: T[]) => void,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(value: T): void {
    if (this.disposed) return;
    this.pending.push(value);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Delivers what is pending now instead of at the end of the delay. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const values = this.pending;
    this.pending = [];
    this.deliver(values);
  }

  /** Drops what is pending. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.pending = [];
  }
}
