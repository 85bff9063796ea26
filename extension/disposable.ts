// A base for objects that own registrations: whatever they `_register` is disposed with them (last
// registered first), through the client's DisposableStore.
import { DisposableStore, type Disposable as DisposableLike } from '../client/lifecycle';

export abstract class Disposable implements DisposableLike {
  private readonly owned = new DisposableStore();

  protected get isDisposed(): boolean {
    return this.owned.isDisposed;
  }

  protected _register<T extends DisposableLike>(value: T): T {
    return this.owned.add(value);
  }

  dispose(): void {
    this.owned.dispose();
  }
}
