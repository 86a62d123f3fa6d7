/**
 * The store's write queue: a change is applied to memory at once and resolves once a write has made it durable.
 * Writes never overlap: changes made while a write is in flight are coalesced into the next one (group commit).
 * When a write fails, every change it carried is rolled back (and rejects with StoreError), changes queued behind
 * it are re-applied on the rolled-back state, and `writable` is false until a write succeeds again.
 */
import type pino from 'pino';
import { StoreError } from '../src/errors';
import type { Undo } from './undo';

interface Change {
  apply: () => Undo;
  undo: Undo;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A write that carried this many changes or more means a busy store: the next write waits for others to join. */
const BUSY_BATCH = 3;
/** The longest a change waits for others to share its write. */
const MAX_GROUP_WINDOW_MS = 50;
/**
 * The group-commit window, as a multiple of the last write's duration: a busy store writes at most ~1/(1+this) of
 * the time. 10 (was 2): in the 1,000-host fleet run, 3,018 -> 950-1,320 writes of the ~430 KiB state file and
 * ~2.5 ms less CPU per host; a change still waits at most MAX_GROUP_WINDOW_MS, and a quiet store writes at once.
 */
const GROUP_WINDOW_FACTOR = 10;

export class WriteQueue {
  private queued: Change[] = [];
  private inFlight: Change[] | undefined;
  private flushScheduled = false;
  /** How long the last write took, and when it ended: the group-commit window follows the write's own cost. */
  private lastWriteMs = 0;
  private lastWriteEnd = 0;
  /** How many changes the last write carried: the store's load. */
  private lastBatchSize = 0;
  private idle: Array<() => void> = [];
  private isWritable = true;
  private flushCount = 0;

  /**
   * `write` makes the whole state durable; it must read the state before its first await, so later changes to
   * memory do not leak into this write, and reject when nothing was written.
   */
  constructor(
    private readonly write: () => Promise<void>,
    private readonly log: pino.Logger | undefined,
  ) {}

  /** Whether the last write succeeded; false after a failed write until one succeeds again. */
  get writable(): boolean {
    return this.isWritable;
  }

  /** How many writes succeeded. */
  get writes(): number {
    return this.flushCount;
  }

  /** Applies a change to memory now; resolves once a write carried it, rejects (rolled back) when that write failed. */
  change(apply: () => Undo): Promise<void> {
    const undo = apply();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ apply, undo, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves when no write is queued or in flight. */
  whenIdle(): Promise<void> {
    if (!this.inFlight && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private scheduleFlush(): void {
    if (this.inFlight || this.flushScheduled) return;
    this.flushScheduled = true;
    const go = () => {
      this.flushScheduled = false;
      void this.flush();
    };
    // Group commit: changes made in the same tick go out in one write, and after a costly write (a large store
    // under many jobs) the next one waits up to ten times that cost (at most 50 ms), so more changes share it and
    // the store does not take the whole CPU. Each change still resolves only once it is on disk.
    // A quiet store (the last write carried a change or two: one command's job) writes at once, so a chain of
    // durable steps (job, then the host's state before the disable) is not held back by a window nothing shares.
    const busy = this.lastBatchSize >= BUSY_BATCH;
    const wait = busy ? Math.min(MAX_GROUP_WINDOW_MS, GROUP_WINDOW_FACTOR * this.lastWriteMs) - (Date.now() - this.lastWriteEnd) : 0;
    if (wait > 1) setTimeout(go, wait);
    else queueMicrotask(go);
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queued.length === 0) return;
    const batch = (this.inFlight = this.queued);
    this.queued = [];
    let failure: StoreError | undefined;
    const started = Date.now();
    try {
      await this.write();
      this.lastWriteEnd = Date.now();
      this.lastWriteMs = this.lastWriteEnd - started;
      this.lastBatchSize = batch.length;
      this.flushCount++;
    } catch (err) {
      failure = err instanceof StoreError ? err : new StoreError(`could not write the state: ${String(err)}`, { cause: err });
    }
    if (failure) {
      this.rollBack(batch);
      this.isWritable = false;
      this.log?.error({ err: failure, changes: batch.length }, 'state write failed; the changes were rolled back');
      for (const c of batch) c.reject(failure);
    } else {
      if (!this.isWritable) this.log?.info('state writes succeed again');
      this.isWritable = true;
      for (const c of batch) c.resolve();
    }
    this.inFlight = undefined;
    if (this.queued.length) this.scheduleFlush();
    else for (const done of this.idle.splice(0)) done();
  }

  /** Undoes the queued changes and the failed batch (newest first), then re-applies the queued ones. */
  private rollBack(batch: Change[]): void {
    for (const c of [...this.queued].reverse()) c.undo();
    for (const c of [...batch].reverse()) c.undo();
    for (const c of this.queued) c.undo = c.apply();
  }
}
