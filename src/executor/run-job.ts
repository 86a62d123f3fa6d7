/**
 * Runs one job's pipeline: each step persisted as running before it runs and as succeeded (with the job's
 * position advanced) before the next starts, so a restart re-runs at most the step that was running. Bounds each
 * step by its timeout, retries retryable errors with backoff, stops at the approval gate, and on failure leaves
 * the host disabled with a comment naming the failure.
 */
import type { Store } from '../../store/store';
import type { HostConfig } from '../config/schema';
import { CancelledError, CodedError, StepError, StepTimeoutError, isRetryable, toCodedError } from '../errors';
import { failureComment } from '../steps/koji-comments';
import { markDisarm } from '../steps/disarm-installer';
import { hostTarget } from '../steps/host-target';
import type { Step, StepContext } from '../steps/types';
import type { JobActivities } from '../steps/activities';
import type { Decision, ExecutorEvent, Job } from '../model';
import { abortableSleep } from '../util/sleep';

const TAIL_LINES = 20;

export class ShutdownError extends CodedError {
  constructor() {
    super('E_SHUTDOWN', 'rekick is shutting down; the step resumes at the next start');
  }
}

export interface JobRunnerOptions {
  job: Job;
  host: HostConfig;
  steps: Step[];
  /** The job's connections (closed when the runner stops) and the deps its steps run with. */
  activities: JobActivities;
  store: Store;
  emit(event: ExecutorEvent): void;
  onStoreFailure(err: unknown): void;
  onStoreRecovered(): void;
  finishCancelled(job: Job): Promise<void>;
  /** Finishes the pending disarm of a job just failed (src/executor/installer-disarms.ts). */
  disarm(job: Job): Promise<void>;
  setComment(job: Job, comment: string): Promise<void>;
  /**
   * The job was saved with its current step already marked started (markStepStarted): the runner's first step
   * goes straight to its work instead of another write. reinstall() does this, so a command costs one durable write
   * before the first Koji call.
   */
  startSaved?: boolean;
  /** Called at each durable transition (`started:STEP`, `succeeded:STEP`, `awaiting-approval`, `succeeded`):
   * the crash tests kill the process exactly there. */
  checkpoint?(point: string, job: Job): void;
}

type StepOutcome = 'ok' | 'failed' | 'cancelled' | 'stopped';

class StoreWriteFailed extends Error {}

/** The longest a progress line waits for the job's next write (see JobRunner.saveProgress). */
const PROGRESS_SAVE_MS = 2_000;

/** Marks step `index` as started, on its first attempt; the caller saves the job. */
export function markStepStarted(job: Job, index: number, at: Date): void {
  const record = job.steps[index]!;
  job.updatedAt = at.toISOString();
  record.status = 'running';
  record.startedAt = at.toISOString();
  record.endedAt = undefined;
  record.error = undefined;
  record.progress = undefined;
  record.attempts += 1;
}

export class JobRunner {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly job: Job;
  private controller?: AbortController;
  private currentAbortable = false;
  private shutdown = false;
  /** Aborts the wait before a step's next attempt (a cancel or a shutdown ends it at once). */
  private backoff?: AbortController;
  /** run() has returned: a cancel asked now would never be acted on by this runner. */
  private settled = false;

  /** The first runStep's start is in the store already (JobRunnerOptions.startSaved). */
  private startSaved: boolean;
  /** When this runner last saved the job, and the save of progress lines it holds back (saveProgress). */
  private lastSaveAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: JobRunnerOptions) {
    this.job = o.job;
    this.startSaved = o.startSaved ?? false;
    if (this.startSaved) this.lastSaveAt = Date.now(); // reinstall() has just written the job
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(): void {
    this.run()
      .catch((err) => {
        if (!(err instanceof StoreWriteFailed)) this.o.activities.deps.log.error({ err, job: this.job.id }, 'job runner failed unexpectedly');
      })
      .finally(() => {
        clearTimeout(this.progressTimer);
        return this.o.activities.close();
      })
      .finally(() => this.resolveDone());
  }

  /** Whether a cancel asked now is acted on by this runner (false once its run is over: it is winding down). */
  get takesCancel(): boolean {
    return !this.settled;
  }

  /**
   * Records a cancel in the job this runner holds; it stops at the next safe point: before any further step or
   * attempt, at the approval gate, or at once in an abortable step. Only while `takesCancel`.
   */
  async requestCancel(decision: Decision): Promise<void> {
    if (this.settled) throw new Error('requestCancel on a runner whose run is over');
    this.job.cancel = decision;
    this.job.updatedAt = decision.at;
    this.backoff?.abort(new CancelledError());
    await this.save();
    if (this.currentAbortable) this.controller?.abort(new CancelledError());
  }

  abortForShutdown(): void {
    this.shutdown = true;
    this.controller?.abort(new ShutdownError());
    this.backoff?.abort(new ShutdownError());
  }

  private async run(): Promise<void> {
    // `settled` is set as the last statement that looks at `job.cancel` returns (no await in between): a cancel
    // asked later goes to the executor, which ends the job itself.
    try {
      const { job, steps } = this.o;
      if (job.state === 'enabling') {
        const outcome = await this.runStep(steps.length - 1);
        if (outcome === 'ok') await this.finish();
        return;
      }
      // Saved with the first step's start (a crash before that resumes a queued job, which is the same thing).
      if (job.state !== 'running') job.state = 'running';
      for (let i = job.current; i < steps.length - 1; i++) {
        if (job.cancel) return this.o.finishCancelled(job);
        if (this.shutdown) return;
        job.current = i;
        if (job.steps[i]!.status === 'skipped') continue;
        const outcome = await this.runStep(i);
        if (outcome === 'cancelled') return this.o.finishCancelled(job);
        if (outcome !== 'ok') return;
      }
      if (job.cancel) return this.o.finishCancelled(job);
      job.current = steps.length - 1;
      const now = new Date().toISOString();
      await this.o.store.saveHost({ ...(this.o.store.getHost(job.host) ?? { name: job.host }), lastReinstalledAt: now, lastJobId: job.id });
      if (job.cancel) return this.o.finishCancelled(job);
      if (job.steps[job.current]!.status === 'skipped') return this.finish();
      job.state = 'awaiting-approval';
      job.updatedAt = now;
      await this.save();
      this.o.checkpoint?.('awaiting-approval', job);
      // The gate honours a cancel that came during its write: a job being cancelled never waits for an approval.
      if (job.cancel) return this.o.finishCancelled(job);
      // An approval or a denial may have come during the write (the job was waiting in memory already): chat is told
      // the job is ready only while it still is.
      if (this.o.store.peekJob(job.id)?.state !== 'awaiting-approval') return;
      this.o.emit({ type: 'awaiting-approval', job });
    } finally {
      this.settled = true;
    }
  }

  private async finish(): Promise<void> {
    const { job } = this.o;
    const now = new Date().toISOString();
    job.state = 'succeeded';
    job.endedAt = now;
    job.updatedAt = now;
    job.current = job.steps.length - 1;
    await this.save();
    this.o.checkpoint?.('succeeded', job);
    const rec = this.o.store.getHost(job.host) ?? { name: job.host };
    await this.o.store.saveHost({ ...rec, lastJobId: job.id, lastOutcome: 'succeeded', lastReinstalledAt: rec.lastReinstalledAt ?? now });
    if (job.steps[job.current]!.status !== 'skipped') this.o.emit({ type: 'enabled', job });
  }

  private async runStep(index: number): Promise<StepOutcome> {
    const { job, steps } = this.o;
    const { deps } = this.o.activities;
    const step = steps[index]!;
    const record = job.steps[index]!;
    const { retry } = deps.config;
    const timeoutMs = step.timeoutMs(deps.config, job);
    const startSaved = this.startSaved && record.status === 'running';
    this.startSaved = false;
    if (!startSaved) markStepStarted(job, index, new Date());
    const firstStart = Date.parse(record.startedAt!);
    this.o.emit({ type: 'step-started', job, step: step.name, index });
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        record.attempts += 1;
        job.updatedAt = new Date().toISOString();
      }
      if (attempt > 1 || !startSaved) await this.save(); // the first attempt's start: markStepStarted
      this.o.checkpoint?.(`started:${step.name}`, job);
      if (job.cancel && !job.approval) {
        // A cancel that came during the write above: the step does not start (a safe point).
        record.status = 'skipped';
        record.endedAt = new Date().toISOString();
        return 'cancelled';
      }
      try {
        await this.attempt(step, index, timeoutMs);
        const end = Date.now();
        record.status = 'succeeded';
        record.endedAt = new Date(end).toISOString();
        record.durationMs = end - firstStart;
        job.current = index + 1;
        job.updatedAt = record.endedAt;
        // The next step's start goes into the same write, as reinstall() does for the first step: a crash after it
        // resumes that step, which is what a crash between two writes did, and a job makes one write per step.
        const next = this.nextStepToRun(index);
        if (next !== undefined && !job.cancel && !this.shutdown) {
          job.current = next;
          markStepStarted(job, next, new Date(end));
          this.startSaved = true;
        }
        await this.save();
        this.o.checkpoint?.(`succeeded:${step.name}`, job);
        this.o.emit({ type: 'step-succeeded', job, step: step.name, index, durationMs: record.durationMs });
        return 'ok';
      } catch (err) {
        if (err instanceof StoreWriteFailed) throw err;
        if (err instanceof ShutdownError || (this.shutdown && !(err instanceof StepError))) {
          deps.log.info({ job: job.id, step: step.name }, 'step stopped for shutdown; it resumes at the next start');
          return 'stopped';
        }
        if (err instanceof CancelledError && job.cancel) {
          record.status = 'skipped';
          record.endedAt = new Date().toISOString();
          return 'cancelled';
        }
        const e = toCodedError(err);
        if (step.retry && isRetryable(e) && attempt < retry.attempts && !job.cancel) {
          const delayMs = Math.min(retry.maxBackoff, retry.backoff * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
          this.o.emit({ type: 'step-retrying', job, step: step.name, attempt, delayMs, error: { code: e.code, message: e.message } });
          // A cancel or a shutdown ends the wait at once; the next attempt starts only if neither came.
          const backoff = (this.backoff = new AbortController());
          await abortableSleep(delayMs, backoff.signal).catch(() => undefined); // aborted: the checks below say why
          this.backoff = undefined;
          if (this.shutdown) return 'stopped';
          if (job.cancel) {
            record.status = 'skipped';
            record.endedAt = new Date().toISOString();
            return 'cancelled';
          }
          continue;
        }
        await this.fail(index, e);
        return 'failed';
      }
    }
  }

  /** The step after `index` that runs before the approval gate, if any (skipped steps left out). */
  private nextStepToRun(index: number): number | undefined {
    const { job, steps } = this.o;
    for (let i = index + 1; i < steps.length - 1; i++) if (job.steps[i]!.status !== 'skipped') return i;
    return undefined;
  }

  private async attempt(step: Step, index: number, timeoutMs: number): Promise<void> {
    const { job, host } = this.o;
    const { deps } = this.o.activities;
    const record = job.steps[index]!;
    const controller = new AbortController();
    this.controller = controller;
    this.currentAbortable = step.abortable;
    if (job.cancel && step.abortable) controller.abort(new CancelledError());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const lastState = record.progress?.startsWith(`${host.name}: `) ? record.progress.slice(host.name.length + 2) : record.progress;
        const err = new StepTimeoutError(`${step.name} on ${host.name}`, timeoutMs, { outputTail: record.outputTail, lastState });
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const ctx: StepContext = {
      ...deps,
      log: deps.log.child({ job: job.id, host: host.name, step: step.name }),
      job,
      host,
      target: hostTarget(host),
      signal: controller.signal,
      timeoutMs,
      progress: (message) => {
        if (record.progress === message) return;
        record.progress = message;
        this.o.emit({ type: 'step-progress', job, step: step.name, message });
        this.saveProgress();
      },
      output: (line) => {
        const tail = (record.outputTail ??= []);
        tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
      },
      save: () => this.save(),
      hostInJob: (name) => {
        const other = this.o.store.activeJob(name);
        return Boolean(other && other.id !== job.id);
      },
      jobOf: (id) => this.o.store.peekJob(id),
      hostKeyChanged: (change) => {
        job.hostKey = { previous: change.previous, accepted: change.fingerprint, at: new Date().toISOString() };
        this.o.emit({ type: 'host-key-changed', job, previous: change.previous, fingerprint: change.fingerprint });
        this.saveInBackground();
      },
    };
    // A step that throws before its first await is a rejection like any other (the timer is cleared below).
    const running = Promise.resolve().then(() => step.run(ctx));
    // The race below reports the first rejection; the losers must not surface as unhandled rejections.
    for (const p of [running, timedOut, aborted]) p.catch(() => undefined);
    try {
      await Promise.race([running, timedOut, aborted]);
    } finally {
      clearTimeout(timer);
      this.currentAbortable = false;
      this.controller = undefined;
    }
  }

  private async fail(index: number, e: CodedError): Promise<void> {
    const { job, steps } = this.o;
    const step = steps[index]!;
    const record = job.steps[index]!;
    const now = new Date().toISOString();
    const tail = e instanceof StepError && e.outputTail.length ? e.outputTail.slice(-TAIL_LINES) : record.outputTail ?? [];
    record.status = 'failed';
    record.endedAt = now;
    record.durationMs = Date.parse(now) - Date.parse(record.startedAt ?? now);
    record.error = { code: e.code, message: e.message };
    record.outputTail = tail;
    job.state = 'failed';
    job.error = { code: e.code, message: e.message, step: step.name };
    job.endedAt = now;
    job.updatedAt = now;
    markDisarm(job, this.o.host, now); // pending, written with the failure; then the disarm
    await this.save();
    await this.o.disarm(job);
    await this.o.setComment(job, failureComment(job, step.name, e.message));
    await this.save();
    const rec = this.o.store.getHost(job.host) ?? { name: job.host };
    await this.o.store.saveHost({ ...rec, lastJobId: job.id, lastOutcome: 'failed' }).catch((err) => this.o.onStoreFailure(err));
    this.o.emit({ type: 'step-failed', job, step: step.name, index, error: record.error, outputTail: tail });
  }

  /**
   * Progress is saved at most once per PROGRESS_SAVE_MS: the first line after a quiet spell at once, later ones with
   * the job's next write (a step's end carries the last line) or when the spell ends. A step that says where it is
   * every few hundred milliseconds (probing SSH, waiting for a reboot) would otherwise make a durable write of each
   * line; what `!status` reads from the store lags by at most that long, and a crash loses at most that much of it.
   */
  private saveProgress(): void {
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
  private saveInBackground(): void {
    this.save().catch((err: unknown) => {
      if (!(err instanceof StoreWriteFailed)) this.o.onStoreFailure(err);
    });
  }

  private async save(): Promise<void> {
    // Whatever progress is in the job goes with this write.
    this.lastSaveAt = Date.now();
    if (this.progressTimer) {
      clearTimeout(this.progressTimer);
      this.progressTimer = undefined;
    }
    try {
      await this.o.store.saveJob(this.job);
      this.o.onStoreRecovered();
    } catch (err) {
      this.o.onStoreFailure(err);
      throw new StoreWriteFailed();
    }
  }
}
