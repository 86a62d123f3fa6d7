/**
 * Runs one job's pipeline, step by step (step-pipeline.ts), up to the approval gate, or the enable after an
 * approval. Each step is persisted as running before it runs and as succeeded before the next starts, so a restart
 * re-runs at most the step that was running. Every change to the job goes through its transitions.
 */
import type { Store } from '../../store/store';
import type { HostConfig } from '../config/schema';
import { StepError, type CodedError } from '../errors';
import type { JobActivities } from '../steps/activities';
import type { Step, StepContext, StepDeps } from '../steps/types';
import type { Decision, ExecutorEvent, Job } from '../model';
import { concludeEndedJob } from './job-ending';
import { JobSaver, StoreWriteFailed } from './job-saver';
import type { JobEvent } from './job-events';
import { applyInPlace, TAIL_LINES } from './job-transitions';
import { StepAborts } from './step-aborts';
import { stepContext } from './step-context';
import { runStep, type PipelineHost } from './step-pipeline';

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
   * The job was saved with its current step already marked started: the runner's first step goes straight to its
   * work instead of another write. reinstall() does this, so a command costs one durable write before the first
   * Koji call.
   */
  startSaved?: boolean;
  /** Called at each durable transition (`started:STEP`, `succeeded:STEP`, `awaiting-approval`, `succeeded`):
   * the crash tests kill the process exactly there. */
  checkpoint?(point: string, job: Job): void;
}

export class JobRunner implements PipelineHost {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  readonly job: Job;
  readonly host: HostConfig;
  readonly steps: Step[];
  readonly deps: StepDeps;
  readonly store: Store;
  readonly aborts = new StepAborts();
  readonly saver: JobSaver;
  readonly checkpoint?: (point: string, job: Job) => void;
  /** run() has returned: a cancel asked now would never be acted on by this runner. */
  private settled = false;
  /** The next runStep's start is in the store already (JobRunnerOptions.startSaved). */
  private startSaved: boolean;

  constructor(private readonly o: JobRunnerOptions) {
    ({ job: this.job, host: this.host, steps: this.steps, store: this.store, checkpoint: this.checkpoint } = o);
    this.deps = o.activities.deps;
    this.saver = new JobSaver(o.job, o);
    this.startSaved = o.startSaved ?? false;
    if (this.startSaved) this.saver.savedJustNow(); // reinstall() has just written the job
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(): void {
    this.run()
      .catch((err) => {
        if (!(err instanceof StoreWriteFailed)) this.deps.log.error({ err, job: this.job.id }, 'job runner failed unexpectedly');
      })
      .finally(() => {
        this.saver.stop();
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
    this.apply({ type: 'cancel', decision });
    this.aborts.cancelBackoff();
    await this.save();
    this.aborts.cancelAttempt();
  }

  abortForShutdown(): void {
    this.aborts.shutdown();
  }

  apply(event: JobEvent): void {
    const refusal = applyInPlace(this.job, event);
    if (refusal) throw new Error(`job ${this.job.id}: ${refusal.reason}`);
  }

  /** A step's report (progress, output, host key): false when the job's state takes none (left as it is). */
  report(event: JobEvent): boolean {
    return !applyInPlace(this.job, event);
  }

  save(): Promise<void> {
    return this.saver.save();
  }

  emit(event: ExecutorEvent): void {
    this.o.emit(event);
  }

  takeStartSaved(index: number): boolean {
    const saved = this.startSaved && this.job.steps[index]!.status === 'running';
    this.startSaved = false;
    return saved;
  }

  markNextStartSaved(): void {
    this.startSaved = true;
  }

  context(step: Step, index: number, signal: AbortSignal, timeoutMs: number): StepContext {
    return stepContext(this, step, index, signal, timeoutMs);
  }

  private async run(): Promise<void> {
    // `settled` is set as the last statement that looks at `job.cancel` returns (no await in between): a cancel
    // asked later goes to the executor, which ends the job itself.
    try {
      const { job, steps } = this;
      if (job.state === 'enabling') {
        const outcome = await runStep(this, steps.length - 1);
        if (outcome === 'ok') await this.finish();
        return;
      }
      // Saved with the first step's start (a crash before that resumes a queued job, which is the same thing).
      if (job.state !== 'running') this.apply({ type: 'run' });
      for (let i = job.current; i < steps.length - 1; i++) {
        if (job.cancel) return this.o.finishCancelled(job);
        if (this.aborts.shuttingDown) return;
        this.apply({ type: 'move', index: i });
        if (job.steps[i]!.status === 'skipped') continue;
        const outcome = await runStep(this, i);
        if (outcome === 'cancelled') return this.o.finishCancelled(job);
        if (outcome !== 'ok') return;
      }
      if (job.cancel) return this.o.finishCancelled(job);
      await this.awaitApproval();
    } finally {
      this.settled = true;
    }
  }

  /** Every step before the gate is done: the host's record, then the gate (or the end, with nothing to enable). */
  private async awaitApproval(): Promise<void> {
    const { job, steps } = this;
    this.apply({ type: 'move', index: steps.length - 1 });
    const now = new Date().toISOString();
    await this.store.saveHost({ ...(this.store.getHost(job.host) ?? { name: job.host }), lastReinstalledAt: now, lastJobId: job.id });
    if (job.cancel) return this.o.finishCancelled(job);
    if (job.steps[job.current]!.status === 'skipped') return this.finish();
    this.apply({ type: 'await-approval', at: now });
    await this.save();
    this.checkpoint?.('awaiting-approval', job);
    // The gate honours a cancel that came during its write: a job being cancelled never waits for an approval.
    if (job.cancel) return this.o.finishCancelled(job);
    // An approval or a denial may have come during the write (the job was waiting in memory already): chat is told
    // the job is ready only while it still is.
    if (this.store.peekJob(job.id)?.state !== 'awaiting-approval') return;
    this.emit({ type: 'awaiting-approval', job });
  }

  private async finish(): Promise<void> {
    const { job } = this;
    const now = new Date().toISOString();
    this.apply({ type: 'succeed', at: now });
    await this.save();
    this.checkpoint?.('succeeded', job);
    const rec = this.store.getHost(job.host) ?? { name: job.host };
    await this.store.saveHost({ ...rec, lastJobId: job.id, lastOutcome: 'succeeded', lastReinstalledAt: rec.lastReinstalledAt ?? now });
    if (job.steps[job.current]!.status !== 'skipped') this.emit({ type: 'enabled', job });
  }

  /** The step failed for good: the job ends failed (saved with a pending disarm), then the disarm, then its end. */
  async fail(index: number, e: CodedError): Promise<void> {
    const { job } = this;
    const record = job.steps[index]!;
    const tail = e instanceof StepError && e.outputTail.length ? e.outputTail.slice(-TAIL_LINES) : record.outputTail ?? [];
    const error = { code: e.code, message: e.message };
    this.apply({ type: 'step-failed', index, at: new Date().toISOString(), error, outputTail: tail, host: this.host });
    await this.save();
    await this.o.disarm(job);
    await concludeEndedJob(job, {
      setComment: (j, c) => this.o.setComment(j, c),
      save: () => this.save(),
      getHost: (name) => this.store.getHost(name),
      saveHost: (r) => this.store.saveHost(r).catch((err) => this.o.onStoreFailure(err)),
      emit: (ev) => this.emit(ev),
    });
  }
}
