/**
 * One step of a job, attempt by attempt: the start persisted before the work, each attempt bounded by the step's
 * timeout and abortable by a cancel (abortable steps) or a shutdown, retryable errors retried with backoff, and the
 * step's end (success, cancel, failure) recorded through the job's transitions.
 */
import type { Config, HostConfig } from '../config/schema';
import { CancelledError, CodedError, StepError, StepTimeoutError, isRetryable, toCodedError } from '../errors';
import type { Step, StepContext, StepDeps } from '../steps/types';
import type { ExecutorEvent, Job } from '../model';
import { abortableSleep } from '../util/sleep';
import type { JobEvent } from './job-events';
import { StoreWriteFailed } from './job-saver';
import { ShutdownError, type StepAborts } from './step-aborts';

export type StepOutcome = 'ok' | 'failed' | 'cancelled' | 'stopped';

/** The runner, as the pipeline needs it. */
export interface PipelineHost {
  readonly job: Job;
  readonly host: HostConfig;
  readonly steps: Step[];
  readonly deps: StepDeps;
  readonly aborts: StepAborts;
  apply(event: JobEvent): void;
  save(): Promise<void>;
  emit(event: ExecutorEvent): void;
  checkpoint?(point: string, job: Job): void;
  /** Whether step `index`'s start is in the store already (saved with the step before it, or by reinstall()). */
  takeStartSaved(index: number): boolean;
  /** The next step's start went into this step's last write. */
  markNextStartSaved(): void;
  context(step: Step, index: number, signal: AbortSignal, timeoutMs: number): StepContext;
  /** Ends the job failed at step `index` (the pipeline has decided the error is final). */
  fail(index: number, error: CodedError): Promise<void>;
}

/** The wait before attempt `attempt + 1`: exponential, capped, with ±20% jitter. */
export function backoffDelayMs(retry: Config['retry'], attempt: number, random = Math.random): number {
  return Math.min(retry.maxBackoff, retry.backoff * 2 ** (attempt - 1)) * (0.8 + random() * 0.4);
}

/** The step after `index` that runs before the approval gate, if any (skipped steps left out). */
export function nextStepToRun(job: Job, index: number): number | undefined {
  for (let i = index + 1; i < job.steps.length - 1; i++) if (job.steps[i]!.status !== 'skipped') return i;
  return undefined;
}

export async function runStep(r: PipelineHost, index: number): Promise<StepOutcome> {
  const { job, deps, aborts } = r;
  const step = r.steps[index]!;
  const { retry } = deps.config;
  const timeoutMs = step.timeoutMs(deps.config, job);
  const startSaved = r.takeStartSaved(index);
  if (!startSaved) r.apply({ type: 'step-started', index, at: new Date().toISOString() });
  const firstStart = Date.parse(job.steps[index]!.startedAt!);
  r.emit({ type: 'step-started', job, step: step.name, index });
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) r.apply({ type: 'attempt-started', index, at: new Date().toISOString() });
    if (attempt > 1 || !startSaved) await r.save(); // the first attempt's start: step-started
    r.checkpoint?.(`started:${step.name}`, job);
    if (job.cancel && !job.approval) {
      // A cancel that came during the write above: the step does not start (a safe point).
      r.apply({ type: 'step-cancelled', index, at: new Date().toISOString() });
      return 'cancelled';
    }
    try {
      await boundedAttempt(r, step, index, timeoutMs);
      return await succeeded(r, step, index, firstStart);
    } catch (err) {
      if (err instanceof StoreWriteFailed) throw err;
      if (err instanceof ShutdownError || (aborts.shuttingDown && !(err instanceof StepError))) {
        deps.log.info({ job: job.id, step: step.name }, 'step stopped for shutdown; it resumes at the next start');
        return 'stopped';
      }
      if (err instanceof CancelledError && job.cancel) {
        r.apply({ type: 'step-cancelled', index, at: new Date().toISOString() });
        return 'cancelled';
      }
      const e = toCodedError(err);
      if (step.retry && isRetryable(e) && attempt < retry.attempts && !job.cancel) {
        const delayMs = backoffDelayMs(retry, attempt);
        r.emit({ type: 'step-retrying', job, step: step.name, attempt, delayMs, error: { code: e.code, message: e.message } });
        await waitBeforeRetry(aborts, delayMs);
        if (aborts.shuttingDown) return 'stopped';
        if (job.cancel) {
          r.apply({ type: 'step-cancelled', index, at: new Date().toISOString() });
          return 'cancelled';
        }
        continue;
      }
      await r.fail(index, e);
      return 'failed';
    }
  }
}

async function succeeded(r: PipelineHost, step: Step, index: number, firstStart: number): Promise<StepOutcome> {
  const { job } = r;
  const end = Date.now();
  const at = new Date(end).toISOString();
  // The next step's start goes into the same write, as reinstall() does for the first step: a crash after it
  // resumes that step, which is what a crash between two writes did, and a job makes one write per step.
  const following = nextStepToRun(job, index);
  const next = following !== undefined && !job.cancel && !r.aborts.shuttingDown ? { index: following, at } : undefined;
  r.apply({ type: 'step-succeeded', index, at, durationMs: end - firstStart, next });
  if (next) r.markNextStartSaved();
  await r.save();
  r.checkpoint?.(`succeeded:${step.name}`, job);
  r.emit({ type: 'step-succeeded', job, step: step.name, index, durationMs: job.steps[index]!.durationMs! });
  return 'ok';
}

/** A cancel or a shutdown ends the wait at once; the caller checks which (the next attempt starts if neither came). */
async function waitBeforeRetry(aborts: StepAborts, delayMs: number): Promise<void> {
  const backoff = (aborts.backoff = new AbortController());
  await abortableSleep(delayMs, backoff.signal).catch(() => undefined); // aborted: the caller's checks say why
  aborts.backoff = undefined;
}

/** One attempt of the step, raced against its timeout and its abort (cancel, shutdown). */
async function boundedAttempt(r: PipelineHost, step: Step, index: number, timeoutMs: number): Promise<void> {
  const { job, host, aborts } = r;
  const controller = new AbortController();
  aborts.controller = controller;
  aborts.abortable = step.abortable;
  if (job.cancel && step.abortable) controller.abort(new CancelledError());
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const record = job.steps[index]!;
      const lastState = record.progress?.startsWith(`${host.name}: `) ? record.progress.slice(host.name.length + 2) : record.progress;
      const err = new StepTimeoutError(`${step.name} on ${host.name}`, timeoutMs, { outputTail: record.outputTail, lastState });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  const ctx = r.context(step, index, controller.signal, timeoutMs);
  // A step that throws before its first await is a rejection like any other (the timer is cleared below).
  const running = Promise.resolve().then(() => step.run(ctx));
  // The race below reports the first rejection; the losers must not surface as unhandled rejections.
  for (const p of [running, timedOut, aborted]) p.catch(() => undefined);
  try {
    await Promise.race([running, timedOut, aborted]);
  } finally {
    clearTimeout(timer);
    aborts.abortable = false;
    aborts.controller = undefined;
  }
}
