/**
 * The executor's runners: at most one per job, each started from the job as the store holds it at that moment, and
 * the ways to wait for them.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import type { HostConfig } from '../config/schema';
import type { Job } from '../model';
import { JobRunner, type JobRunnerOptions } from './job-runner';

/** The states a job has a runner in (awaiting-approval waits for a decision, without one). */
const RUNNABLE = new Set<Job['state']>(['queued', 'running', 'enabling']);

export interface JobLauncherOptions {
  store: Store;
  log: Logger;
  host(name: string): HostConfig | undefined;
  stopping(): boolean;
  /** What a runner for this job is made of, besides the job, its host and `startSaved`. */
  runnerOptions(): Omit<JobRunnerOptions, 'job' | 'host' | 'startSaved'>;
}

export class JobLauncher {
  private readonly runners = new Map<string, JobRunner>();

  constructor(private readonly o: JobLauncherOptions) {}

  get(jobId: string): JobRunner | undefined {
    return this.runners.get(jobId);
  }

  /**
   * Starts a runner for the job as the store holds it now: a job finished, cancelled or waiting for approval
   * meanwhile is not started (a pending cancel is acted on by the runner's first check).
   */
  launch(jobId: string, options: { startSaved?: boolean } = {}): void {
    if (this.o.stopping()) return;
    const job = this.o.store.getJob(jobId);
    if (!job || !RUNNABLE.has(job.state)) return;
    const previous = this.runners.get(job.id);
    if (previous) {
      // Its last runner is still winding down (e.g. it just reached the approval gate and an auto-approval came at
      // once): go on once it has, not never, from the job as it is then.
      void previous.done.then(() => this.launch(job.id));
      return;
    }
    const host = this.o.host(job.host);
    if (!host) {
      this.o.log.error({ job: job.id, host: job.host }, 'job for a host no longer in the config: left as it is');
      return;
    }
    const runner = new JobRunner({ ...this.o.runnerOptions(), job, host, startSaved: options.startSaved });
    this.runners.set(job.id, runner);
    void runner.done.finally(() => this.runners.delete(job.id));
    runner.start();
  }

  /** The runners now (a shutdown waits for these, and aborts them after its grace period). */
  running(): JobRunner[] {
    return [...this.runners.values()];
  }

  async idle(): Promise<void> {
    while (this.runners.size) await Promise.allSettled([...this.runners.values()].map((r) => r.done));
  }
}
