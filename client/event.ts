// One typed event shape for the client library and the extension: subscribing returns a Disposable
// (as vscode.Event does), so listeners are released the same way as every other registration.
import { toDisposable, type Disposable } from './lifecycle';

export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    // Wrapped, so the same function subscribed twice is two subscriptions.
    const entry = (value: T) => listener(value);
    this.listeners.add(entry);
    return toDisposable(() => this.listeners.delete(entry));
  };

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** The first value only; the subscription ends itself. */
export function once<T>(event: Event<T>): Event<T> {
  return (listener) => {
    let fired = false;
    const sub = event((value) => {
      if (fired) return;
      fired = true;
      sub.dispose();
      listener(value);
    });
    if (fired) sub.dispose();
    return sub;
  };
}
