// Slows down password and token guessing: after a few failures from one address, each further
// attempt must wait, twice as long each time (up to a minute), and is refused with 429 until then.
export interface ThrottleOptions {
  /** Failures allowed before any waiting. */
  free: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** A quiet address is forgotten after this long. */
  forgetMs: number;
  /** Addresses remembered at most (the oldest are dropped first). */
  maxTracked: number;
}

const DEFAULTS: ThrottleOptions = { free: 5, firstDelayMs: 1_000, maxDelayMs: 60_000, forgetMs: 15 * 60_000, maxTracked: 10_000 };

interface Record {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

export class LoginThrottle {
  private readonly records = new Map<string, Record>();
  private readonly options: ThrottleOptions;

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Milliseconds this address must still wait before its next attempt counts (0: go ahead). */
  waitFor(address: string, now = Date.now()): number {
    const r = this.records.get(address);
    if (!r) return 0;
    if (now - r.lastFailure > this.options.forgetMs) {
      this.records.delete(address);
      return 0;
    }
    return Math.max(0, r.blockedUntil - now);
  }

  failed(address: string, now = Date.now()): void {
    const r = this.records.get(address) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
    this.records.delete(address); // re-inserted last: the map stays ordered by recent failure
    r.failures++;
    r.lastFailure = now;
    const over = r.failures - this.options.free;
    if (over > 0) r.blockedUntil = now + Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** Math.min(over - 1, 30));
    this.records.set(address, r);
    if (this.records.size > this.options.maxTracked) this.records.delete(this.records.keys().next().value!);
  }

  succeeded(address: string): void {
    this.records.delete(address);
  }
}
