// One change at a time per cluster (provision, start, stop, down), in arrival order. Waiters learn who
// holds the lock, so a waiting request can say why it waits; a cancelled waiter leaves the queue at once.

interface Waiter {
  holder: string;
  grant: () => void;
}

interface LockState {
  holder: string;
  waiters: Waiter[];
}

export class ClusterLocks {
  private readonly locks = new Map<string, LockState>();

  isHeld(cluster: string): boolean {
    return this.locks.has(cluster);
  }

  /**
   * Resolves with a release function once `holder` has the lock. `onWait` is told who holds it when
   * the caller has to wait. Rejects with the signal's reason if cancelled while waiting.
   */
  acquire(cluster: string, holder: string, opts: { signal?: AbortSignal; onWait?: (heldBy: string) => void } = {}): Promise<() => void> {
    const release = () => this.release(cluster);
    const state = this.locks.get(cluster);
    if (!state) {
      this.locks.set(cluster, { holder, waiters: [] });
      return Promise.resolve(release);
    }
    opts.onWait?.(state.holder);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        holder,
        grant: () => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        state.waiters.splice(state.waiters.indexOf(waiter), 1);
        reject(opts.signal?.reason);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      state.waiters.push(waiter);
    });
  }

  private release(cluster: string): void {
    const state = this.locks.get(cluster);
    if (!state) return;
    const next = state.waiters.shift();
    if (!next) {
      this.locks.delete(cluster);
      return;
    }
    state.holder = next.holder;
    next.grant();
  }
}
