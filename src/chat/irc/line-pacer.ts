/**
 * A token bucket for lines sent to a server: `burst` lines at once, then `perSecond` lines a second. The clock is
 * passed in so tests can drive it.
 */
export interface LinePacerOptions {
  /** Lines that may go at once after a quiet moment (default 4). */
  burst?: number;
  /** Lines a second after that (default 1). */
  perSecond?: number;
  now?: () => number;
}

export class LinePacer {
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(options: LinePacerOptions = {}) {
    this.burst = options.burst ?? 4;
    this.perSecond = options.perSecond ?? 1;
    if (this.burst < 1 || this.perSecond <= 0) throw new RangeError('LinePacer needs burst >= 1 and perSecond > 0');
    this.now = options.now ?? (() => Date.now());
    this.tokens = this.burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }

  /** Takes a token when one is there. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the next token (0 when one is there). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  /** A fresh connection: the server counts from zero again. */
  reset(): void {
    this.tokens = this.burst;
    this.last = this.now();
  }
}
