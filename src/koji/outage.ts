/**
 * Tells the caller once when the hub stops answering and once when it answers again, however many calls fail
 * in between. A blip that one retry fixes is not an outage: `failuresBeforeDown` consecutive failures are.
 */
export interface KojiOutageEvent {
  state: 'down' | 'up';
  /** Why the hub is considered down (on 'down'). */
  error?: Error;
  /** When the outage began (on 'up': how long it lasted is `at - since`). */
  since?: Date;
  at: Date;
}

export class OutageTracker {
  private failures = 0;
  private downSince?: Date;

  constructor(
    private readonly emit: (e: KojiOutageEvent) => void,
    private readonly failuresBeforeDown = 2,
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {}

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  failed(error: Error): void {
    this.failures += 1;
    if (!this.downSince && this.failures >= this.failuresBeforeDown) {
      this.downSince = new Date();
      this.emitSafely({ state: 'down', error, at: this.downSince });
    }
  }

  answered(): void {
    this.failures = 0;
    if (this.downSince) {
      const since = this.downSince;
      this.downSince = undefined;
      this.emitSafely({ state: 'up', since, at: new Date() });
    }
  }

  private emitSafely(e: KojiOutageEvent): void {
    try {
      this.emit(e);
    } catch (err) {
      // a failing listener must not break Koji calls: reported, not thrown
      this.onListenerError(err);
    }
  }
}
