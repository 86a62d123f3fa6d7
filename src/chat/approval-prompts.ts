/**
 * When each job's "ready: !approve HOST" line was first handed to a chat, so that `!approve all` approves only what
 * its sender could have seen: a job whose line went out after the command arrived is left waiting. Jobs already
 * waiting when this process started count as announced (the process before announced them, and `!queue` lists
 * them). In memory only: what matters is the current process's announcements.
 */

/** Announcements kept at most (oldest dropped): a job leaves the list once it is decided on. */
const MAX_KEPT = 10_000;

export interface ApprovalPromptsOptions {
  /** Ids of the jobs waiting for approval when the process started. */
  waitingAtStart?: Iterable<string>;
  /** The clock, in ms (tests pin it). */
  now?: () => number;
}

export class ApprovalPrompts {
  private readonly shown = new Map<string, number>();
  private readonly atStart: Set<string>;
  private readonly now: () => number;

  constructor(options: ApprovalPromptsOptions = {}) {
    this.atStart = new Set(options.waitingAtStart ?? []);
    this.now = options.now ?? Date.now;
  }

  /** The job's ready line is being handed to a chat now; the first time counts. */
  announced(jobId: string): void {
    if (this.shown.has(jobId)) return;
    this.shown.set(jobId, this.now());
    if (this.shown.size > MAX_KEPT) this.shown.delete(this.shown.keys().next().value!);
  }

  /** The job no longer waits (approved, denied, cancelled). */
  forget(jobId: string): void {
    this.shown.delete(jobId);
    this.atStart.delete(jobId);
  }

  /** When the job's ready line was first handed to a chat, if it was. */
  announcedAt(jobId: string): Date | undefined {
    const at = this.shown.get(jobId);
    return at === undefined ? undefined : new Date(at);
  }

  /** Whether someone whose line arrived at `at` could have seen the job announced as ready. */
  seenBefore(jobId: string, at: Date): boolean {
    if (this.atStart.has(jobId)) return true;
    const shown = this.shown.get(jobId);
    return shown !== undefined && shown <= at.getTime();
  }
}
