/**
 * The executor's side of disarming (src/steps/disarm-installer.ts): it finishes the pending disarm of a job just
 * ended cancelled or failed (after that state is durable), keeps the host busy meanwhile (a new reinstall of it
 * would be disarmed under its feet), finishes at start the disarms a crash left pending (then sets the Koji comment
 * and posts the cancel or failure line they were waiting for), and stops them at shutdown (they stay pending).
 */
import type { Store } from '../../store/store';
import { disarmFailedNotice } from '../present/disarm';
import type { HostConfig } from '../config/schema';
import { disarmInstaller, type DisarmActivity } from '../steps/disarm-installer';
import type { StepDeps } from '../steps/types';
import type { Job, Origin } from '../model';
import { concludeEndedJob, type JobEndingIo } from './job-ending';
import { applyInPlace } from './job-transitions';

export interface InstallerDisarmsOptions {
  deps: StepDeps;
  store: Store;
  host(name: string): HostConfig | undefined;
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void;
  /** How a job resumed at start ends once its disarm is done (comment, write, line). */
  ending: JobEndingIo;
  onStoreFailure(err: unknown): void;
  /** The activity (default disarmInstaller). */
  activity?: DisarmActivity;
}

export class InstallerDisarms {
  /** host -> the finished job whose installer is being disarmed now, and when that is done. */
  private readonly running = new Map<string, { job: Job; done: Promise<unknown> }>();
  private readonly stopper = new AbortController();
  /** host -> a disarm resumed at start, until its job is saved and its line posted. */
  private readonly resumed = new Map<string, { job: Job; work: Promise<void> }>();

  constructor(private readonly o: InstallerDisarmsOptions) {}

  /** The job whose installer is being disarmed on this host now, if any: the host is not free for another job. */
  busy(host: string): Job | undefined {
    return this.running.get(host)?.job ?? this.resumed.get(host)?.job;
  }

  /** Resolves when the host's disarm under way (if any) is done, and, one resumed at start, its job saved. */
  async settled(host: string): Promise<void> {
    await this.running.get(host)?.done.catch(() => undefined);
    await this.resumed.get(host)?.work;
  }

  /**
   * Finishes the job's pending disarm: the outcome replaces `pending` on the job (the caller saves it with the
   * comment); a failure is also an error notice. Stopped by a shutdown it stays pending. Never throws.
   */
  async finish(job: Job): Promise<void> {
    if (job.disarm?.outcome !== 'pending') return;
    const host = this.o.host(job.host);
    if (!host) {
      applyInPlace(job, { type: 'disarm-outcome', record: { outcome: 'failed', at: new Date().toISOString(), detail: `${job.host} is no longer in the config` } });
    } else {
      const activity = this.o.activity ?? disarmInstaller;
      const done = activity(job, host, this.o.deps, { signal: this.stopper.signal });
      this.running.set(job.host, { job, done });
      try {
        const record = await done;
        if (record) applyInPlace(job, { type: 'disarm-outcome', record });
      } finally {
        this.running.delete(job.host);
      }
    }
    if (disarmOutcome(job) === 'failed') this.o.notify('error', disarmFailedNotice(job), job.origin);
  }

  /**
   * At start: each finished job whose disarm a crash or a shutdown left pending is finished in the background (the
   * host counts as busy until then), then gets its Koji comment and its cancel or failure line.
   */
  resumePending(): void {
    const pending = this.o.store.peekJobs({ states: ['cancelled', 'failed'] }).filter((j) => j.disarm?.outcome === 'pending');
    for (const frozen of pending) {
      const job = this.o.store.getJob(frozen.id);
      if (job) this.finishInBackground(job);
    }
  }

  /**
   * Finishes the pending disarm of a job whose cancelled or failed state (with the pending disarm) is saved, with no
   * one waiting for it: then its Koji comment and its cancel or failure line. The host is busy until then.
   */
  finishInBackground(job: Job): void {
    if (this.running.has(job.host) || this.resumed.has(job.host)) return;
    // Marked busy (finish) before this call's first await: the host is not free for a new job from now on.
    const work = this.resume(job).catch((err: unknown) => this.o.onStoreFailure(err));
    this.resumed.set(job.host, { job, work });
    void work.finally(() => this.resumed.delete(job.host));
  }

  private async resume(job: Job): Promise<void> {
    await this.finish(job);
    if (job.disarm?.outcome === 'pending') return; // stopped by a shutdown: the next start tries again
    await concludeEndedJob(job, this.o.ending);
  }

  /** Resolves when the disarms resumed at start are done. */
  async idle(): Promise<void> {
    while (this.resumed.size) await Promise.allSettled([...this.resumed.values()].map((r) => r.work));
  }

  /** Shutdown: a disarm under way stops at once and stays pending (the next start finishes it). */
  stop(): void {
    this.stopper.abort();
  }
}

/**
 * The job's disarm outcome as it is now. finish() returns early unless it was `pending` and then replaces it
 * (applyInPlace); read through this function, TypeScript does not keep the early return's narrowing to `pending`.
 */
function disarmOutcome(job: Job): string | undefined {
  return job.disarm?.outcome;
}
