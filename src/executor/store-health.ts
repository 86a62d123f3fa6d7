/**
 * Whether the state file can be written. A failed write is said once in chat and stops new work; while it lasts an
 * empty write is tried now and then, and the first good write (a probe's or anyone's) says so and resumes the work.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import { UserError, toCodedError } from '../errors';

export interface StoreHealthOptions {
  store: Store;
  log: Logger;
  /** How often to try a write again while the store is broken. */
  retryMs: number;
  notify(level: 'info' | 'error', text: string): void;
  /** The executor is stopping: no more probes. */
  stopping(): boolean;
  /** Called after the first good write following a failure. */
  recovered(): void;
}

export class StoreHealth {
  private broken = false;
  private probe?: NodeJS.Timeout;

  constructor(private readonly o: StoreHealthOptions) {}

  get isBroken(): boolean {
    return this.broken;
  }

  /** A write to the store failed: say so once in chat, stop taking new work. */
  failed(err: unknown): void {
    const e = toCodedError(err);
    this.o.log.error({ err: e }, 'store write failed');
    if (!this.broken) {
      this.broken = true;
      this.o.notify('error', `rekick cannot write its state file (${e.message}); it takes no new work until that is fixed. Running jobs stop at their next step.`);
    }
    this.scheduleProbe();
  }

  /** A write succeeded: after a failure, say so and resume the jobs the failure stopped. */
  succeeded(): void {
    if (!this.broken) return;
    this.broken = false;
    this.stop();
    this.o.notify('info', 'rekick can write its state file again; it takes new work.');
    this.o.recovered();
  }

  /** Refuses new work while the store cannot be written. */
  assertWritable(): void {
    if (this.broken || !this.o.store.writable) {
      throw new UserError('rekick cannot write its state file right now, so it takes no new work (see the logs)', 'E_STORE_READONLY');
    }
  }

  stop(): void {
    clearTimeout(this.probe);
    this.probe = undefined;
  }

  /** While the store is broken nothing else may write: try an empty write now and then to find out it works again. */
  private scheduleProbe(): void {
    if (this.probe || this.o.stopping() || !this.broken) return;
    this.probe = setTimeout(() => {
      this.probe = undefined;
      this.o.store.saveJobs([]).then(
        () => this.succeeded(),
        (err) => {
          this.o.log.debug({ err }, 'state file still not writable');
          this.scheduleProbe();
        },
      );
    }, this.o.retryMs);
    this.probe.unref?.();
  }
}
