// How many managed jobs may be starting at once (provisioning a cluster and running setup): SkyPilot's
// controller launches a bounded number at a time and keeps the rest PENDING. Running jobs hold no slot.
export class LaunchSlots {
  private busy = 0;
  private readonly waiters: { grant: () => void }[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.busy;
  }

  /** Resolves with an idempotent release once a slot is free; rejects if `signal` aborts first. `onWait` says why it waits. */
  acquire(signal: AbortSignal, onWait: (why: string) => void): Promise<() => void> {
    const release = this.releaser();
    if (this.busy < this.limit && this.waiters.length === 0) {
      this.busy++;
      return Promise.resolve(release);
    }
    onWait(`waiting for a launch slot: ${this.busy} managed job(s) starting (limit ${this.limit}), ${this.waiters.length} ahead`);
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.busy++;
          resolve(release);
        },
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.waiters.shift()?.grant();
    };
  }
}
