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
import { cancelComment, failureComment } from '../steps/koji-comments';
import type { StepDeps } from '../steps/types';
import { STEP_NAMES, type ExecutorEvent, type Job, type Origin } from '../model';

export interface InstallerDisarmsOptions {
  deps: StepDeps;
  store: Store;
  host(name: string): HostConfig | undefined;
  emit(event: ExecutorEvent): void;
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void;
  setComment(job: Job, comment: string): Promise<void>;
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
      job.disarm = { outcome: 'failed', at: new Date().toISOString(), detail: `${job.host} is no longer in the config` };
    } else {
      const activity = this.o.activity ?? disarmInstaller;
      const done = activity(job, host, this.o.deps, { signal: this.stopper.signal });
      this.running.set(job.host, { job, done });
      try {
        const record = await done;
        if (record) job.disarm = record;
      } finally {
        this.running.delete(job.host);
      }
    }
    if (job.disarm.outcome === 'failed') this.o.notify('error', disarmFailedNotice(job), job.origin);
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
    const step = job.error?.step ?? STEP_NAMES[Math.min(job.current, STEP_NAMES.length - 1)]!;
    const cancelled = job.state === 'cancelled' && job.cancel;
    await this.o.setComment(job, cancelled ? cancelComment(job, job.cancel!.by, step) : failureComment(job, step, job.error?.message ?? 'failed'));
    await this.o.store.saveJob(job);
    if (cancelled) {
      this.o.emit({ type: 'cancelled', job, by: job.cancel!.by });
    } else {
      // What the runner records of a failure once its disarm is done (a crash stopped it before that).
      const rec = this.o.store.getHost(job.host) ?? { name: job.host };
      await this.o.store.saveHost({ ...rec, lastJobId: job.id, lastOutcome: 'failed' });
      const index = STEP_NAMES.indexOf(step);
      const record = job.steps[index]!;
      const error = record.error ?? { code: job.error?.code ?? 'E_INTERNAL', message: job.error?.message ?? 'failed' };
      this.o.emit({ type: 'step-failed', job, step, index, error, outputTail: record.outputTail ?? [] });
    }
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
