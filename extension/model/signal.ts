// A typed listener list for the plain models, so they fire events without importing vscode.

export interface Unsubscribe {
  dispose(): void;
}

export class Signal<T> {
  private readonly listeners = new Set<(value: T) => void>();

  /** Shaped like vscode.Event so a model's signal can be pushed into context.subscriptions. */
  readonly event = (listener: (value: T) => void): Unsubscribe => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
