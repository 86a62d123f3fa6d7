/**
 * When the refusal list is written: it has no writes of its own. A refusal stays in memory until the next write
 * carries the whole state; one noted with `flushSoon` makes a write (`writeNow`) at most `ms` later if none came
 * meanwhile, retried while it fails.
 */
import type pino from 'pino';
import type { RefusalList } from './refusal-list';

export interface RefusalWritesOptions {
  refusals: RefusalList;
  /** The longest a refusal noted with `flushSoon` waits for a write to carry it. */
  ms: number;
  /** A write of the state that changes nothing else. */
  writeNow: () => Promise<void>;
  isOpen: () => boolean;
  log?: pino.Logger;
}

export class RefusalWrites {
  /** The refusal list's version that the last successful write carried: it is dirty while they differ. */
  private written = 0;
  private timer?: NodeJS.Timeout;
  /** Told when a write made for the refusal list fails (see RefusalOptions). */
  onError?: (err: unknown) => void;

  constructor(private readonly o: RefusalWritesOptions) {}

  /** The list's version now, to hand to `carried` once the write that read it succeeded. */
  get version(): number {
    return this.o.refusals.version;
  }

  carried(version: number): void {
    this.written = version;
  }

  /** Refusals noted that no successful write has carried yet. */
  get dirty(): boolean {
    return this.o.refusals.version !== this.written;
  }

  /** One write for the refusals of the next while, unless another write carries them first; retried while it fails. */
  schedule(): void {
    if (this.timer || !this.o.isOpen()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.o.isOpen() || !this.dirty) return;
      this.o.writeNow().catch((err: unknown) => {
        this.o.log?.warn({ err }, 'could not write the refusal list; trying again later');
        this.schedule();
        this.onError?.(err);
      });
    }, this.o.ms);
    this.timer.unref?.();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
