/**
 * How a runner writes its job: every save reported to the executor (a failed write stops taking work, a good one
 * after a failure resumes it), and progress lines held back so that a chatty step does not cost a write per line.
 */
import type { Store } from '../../store/store';
import type { Job } from '../model';

/** A save failed: the runner stops (the executor has been told, and resumes the job once the store works). */
export class StoreWriteFailed extends Error {}

/** The longest a progress line waits for the job's next write (see JobSaver.saveProgress). */
const PROGRESS_SAVE_MS = 2_000;

export interface JobSaverOptions {
  store: Store;
  onStoreFailure(err: unknown): void;
  onStoreRecovered(): void;
}

export class JobSaver {
  /** When the job was last saved, and the save of progress lines held back (saveProgress). */
  private lastSaveAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly job: Job,
    private readonly o: JobSaverOptions,
  ) {}

  /** The job was written just now by someone else (reinstall() saved it with its first step started). */
  savedJustNow(): void {
    this.lastSaveAt = Date.now();
  }

  async save(): Promise<void> {
    // Whatever progress is in the job goes with this write.
    this.lastSaveAt = Date.now();
    this.stop();
    try {
      await this.o.store.saveJob(this.job);
      this.o.onStoreRecovered();
    } catch (err) {
      this.o.onStoreFailure(err);
      throw new StoreWriteFailed();
    }
  }

  /**
   * Progress is saved at most once per PROGRESS_SAVE_MS: the first line after a quiet spell at once, later ones with
   * the job's next write (a step's end carries the last line) or when the spell ends. A step that says where it is
   * every few hundred milliseconds (probing SSH, waiting for a reboot) would otherwise make a durable write of each
   * line; what `!status` reads from the store lags by at most that long, and a crash loses at most that much of it.
   */
  saveProgress(): void {
    if (this.progressTimer) return;
    const wait = this.lastSaveAt + PROGRESS_SAVE_MS - Date.now();
    if (wait <= 0) {
      this.saveInBackground();
      return;
    }
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.saveInBackground();
    }, wait);
    this.progressTimer.unref();
  }

  /** A save nobody waits for (progress, a recorded host key): a failure is reported by save() itself. */
  saveInBackground(): void {
    this.save().catch((err: unknown) => {
      if (!(err instanceof StoreWriteFailed)) this.o.onStoreFailure(err);
    });
  }

  /** Drops a progress save held back (the runner stopped, or a save is being made now). */
  stop(): void {
    if (this.progressTimer) {
      clearTimeout(this.progressTimer);
      this.progressTimer = undefined;
    }
  }
}
