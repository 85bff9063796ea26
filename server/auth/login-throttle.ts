// Slows down password guessing: after a few failures under one key (an account at an address, or an
// address), each further attempt under it must wait, twice as long each time (up to a minute), and is
// refused with 429 until then. Memory stays bounded without letting a guesser flush its own record:
// IPv6 addresses count by their /64 (clientKey: one host holds a whole /64), and once the table is full, new keys
// share one overflow record instead of pushing old ones out.

export interface ThrottleOptions {
  /** Failures allowed before any waiting. */
  free: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** A quiet key is forgotten after this long. */
  forgetMs: number;
  /** Keys remembered at most; past it, new keys share one record. */
  maxTracked: number;
}

const DEFAULTS: ThrottleOptions = { free: 5, firstDelayMs: 1_000, maxDelayMs: 60_000, forgetMs: 15 * 60_000, maxTracked: 10_000 };
const OVERFLOW = '\0overflow';

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

  /** Milliseconds this key must still wait before its next attempt counts (0: go ahead). */
  waitFor(key: string, now = Date.now()): number {
    const r = this.records.get(key) ?? (this.records.size >= this.options.maxTracked ? this.records.get(OVERFLOW) : undefined);
    if (!r) return 0;
    if (now - r.lastFailure > this.options.forgetMs) return 0;
    return Math.max(0, r.blockedUntil - now);
  }

  failed(key: string, now = Date.now()): void {
    let r = this.records.get(key);
    if (!r && this.records.size >= this.options.maxTracked) this.forgetQuiet(now);
    if (!r && this.records.size >= this.options.maxTracked) key = OVERFLOW;
    r = this.records.get(key);
    if (!r || now - r.lastFailure > this.options.forgetMs) r = { failures: 0, blockedUntil: 0, lastFailure: now };
    r.failures++;
    r.lastFailure = now;
    const over = r.failures - this.options.free;
    if (over > 0) r.blockedUntil = now + Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** Math.min(over - 1, 30));
    this.records.set(key, r);
  }

  succeeded(key: string): void {
    this.records.delete(key);
  }

  get tracked(): number {
    return this.records.size;
  }

  private forgetQuiet(now: number): void {
    for (const [key, r] of this.records) if (now - r.lastFailure > this.options.forgetMs) this.records.delete(key);
  }
}
