/**
 * The job state machine: the only place a job's state fields change. `transition(job, event)` is pure: it returns
 * a changed copy, or a typed refusal when the event does not apply in the job's state (job-events.ts). The executor
 * and the runner apply what it returns and save it through the store.
 */
import { cloneJson } from '../../store/clone-json';
import { markDisarm, rearmOnRetry } from './job-transitions-disarm';
import { STEP_NAMES, type Identity, type Job } from '../model';
import { ALLOWED, type JobEvent, type Refusal } from './job-events';

/** The last lines of a step's output a job keeps (as the step runs, and with its failure). */
export const TAIL_LINES = 20;

export function isRefusal(result: Job | Refusal): result is Refusal {
  return 'refused' in result;
}

/** The job after `event`, or a refusal: the event does not apply in the job's state. */
export function transition(job: Job, event: JobEvent): Job | Refusal {
  const refusal = refusalOf(job, event);
  if (refusal) return refusal;
  const next = cloneJson(job);
  apply(next, event);
  return next;
}

function refusalOf(job: Job, event: JobEvent): Refusal | undefined {
  if (ALLOWED[event.type].includes(job.state)) return undefined;
  return { refused: event.type, state: job.state, reason: `${event.type} does not apply to a job ${job.state}` };
}

/** The job after an event the caller knows applies; a refusal is a bug in the caller, thrown as an Error. */
export function transitioned(job: Job, event: JobEvent): Job {
  const result = transition(job, event);
  if (isRefusal(result)) throw new Error(`job ${job.id}: ${result.reason}`);
  return result;
}

/** A new job for `host`, queued (steps that do not apply to it skipped). */
export function queuedJob(fields: Pick<Job, 'id' | 'host' | 'requestedBy' | 'origin' | 'reason' | 'options'>, skipped: (index: number) => boolean, at: string): Job {
  return {
    id: fields.id,
    host: fields.host,
    state: 'queued',
    createdAt: at,
    updatedAt: at,
    requestedBy: fields.requestedBy,
    origin: fields.origin,
    reason: fields.reason,
    options: fields.options,
    steps: STEP_NAMES.map((name, i) => ({ name, status: skipped(i) ? 'skipped' : 'pending', attempts: 0 })),
    current: 0,
    data: {},
  };
}

function apply(job: Job, event: JobEvent): void {
  switch (event.type) {
    case 'run':
      job.state = 'running';
      return;
    case 'move':
      job.current = event.index;
      return;
    case 'step-started':
      return startStep(job, event.index, event.at);
    case 'attempt-started':
      job.steps[event.index]!.attempts += 1;
      job.updatedAt = event.at;
      return;
    case 'step-progress':
      job.steps[event.index]!.progress = event.message;
      return;
    case 'step-output': {
      const tail = (job.steps[event.index]!.outputTail ??= []);
      tail.push(event.line.length > 400 ? `${event.line.slice(0, 400)}…` : event.line);
      if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
      return;
    }
    case 'host-key-accepted':
      job.hostKey = { previous: event.previous, accepted: event.fingerprint, at: event.at };
      return;
    case 'step-succeeded':
      return succeedStep(job, event);
    case 'step-cancelled':
      job.steps[event.index]!.status = 'skipped';
      job.steps[event.index]!.endedAt = event.at;
      return;
    case 'step-failed':
      return failStep(job, event);
    case 'await-approval':
      job.state = 'awaiting-approval';
      job.updatedAt = event.at;
      return;
    case 'approve':
      job.approval = event.decision;
      job.state = 'enabling';
      job.updatedAt = event.decision.at;
      return;
    case 'deny':
      job.denial = event.decision;
      job.state = 'denied';
      job.updatedAt = event.decision.at;
      job.endedAt = event.decision.at;
      job.steps[job.steps.length - 1]!.status = 'skipped';
      return;
    case 'cancel':
      job.cancel = event.decision;
      job.updatedAt = event.decision.at;
      return;
    case 'end-cancelled':
      job.state = 'cancelled';
      job.endedAt = event.at;
      job.updatedAt = event.at;
      for (const s of job.steps) if (s.status === 'pending' || s.status === 'running') s.status = 'skipped';
      markDisarm(job, event.host, event.at);
      return;
    case 'retry':
      return retry(job, event.by, event.at);
    case 'disarm-outcome':
      job.disarm = event.record;
      return;
    case 'comment-set':
      job.kojiComment = event.comment;
      return;
    case 'succeed':
      job.state = 'succeeded';
      job.endedAt = event.at;
      job.updatedAt = event.at;
      job.current = job.steps.length - 1;
      return;
  }
}

/** Marks step `index` as started, on its first attempt. */
function startStep(job: Job, index: number, at: string): void {
  const record = job.steps[index]!;
  job.current = index;
  job.updatedAt = at;
  record.status = 'running';
  record.startedAt = at;
  record.endedAt = undefined;
  record.error = undefined;
  record.progress = undefined;
  record.attempts += 1;
}

function succeedStep(job: Job, event: Extract<JobEvent, { type: 'step-succeeded' }>): void {
  const record = job.steps[event.index]!;
  record.status = 'succeeded';
  record.endedAt = event.at;
  record.durationMs = event.durationMs;
  job.current = event.index + 1;
  job.updatedAt = event.at;
  if (event.next) startStep(job, event.next.index, event.next.at);
}

function failStep(job: Job, event: Extract<JobEvent, { type: 'step-failed' }>): void {
  const record = job.steps[event.index]!;
  record.status = 'failed';
  record.endedAt = event.at;
  record.durationMs = Date.parse(event.at) - Date.parse(record.startedAt ?? event.at);
  record.error = event.error;
  record.outputTail = event.outputTail;
  job.state = 'failed';
  job.error = { ...event.error, step: STEP_NAMES[event.index]! };
  job.endedAt = event.at;
  job.updatedAt = event.at;
  markDisarm(job, event.host, event.at); // pending, written with the failure; then the disarm
}

/**
 * A failed job resumed from the step that failed, or from stage-installer when its installer was disarmed (it is
 * armed again: rearmOnRetry). A cancel asked before the failure belonged to the attempt that failed: the retry is a
 * later order, and is not undone by it.
 */
function retry(job: Job, by: Identity, at: string): void {
  rearmOnRetry(job);
  const step = job.steps[job.current]!;
  step.status = 'pending';
  step.error = undefined;
  // A failed enable was approved already: it resumes enabling on that approval, not at the approval gate.
  job.state = step.name === 'enable' && job.approval ? 'enabling' : 'running';
  job.error = undefined;
  job.endedAt = undefined;
  job.cancel = undefined;
  job.updatedAt = at;
  // Step-scoped scratch data (`STEP.key`) belongs to the failed attempt: a retry starts that step afresh.
  for (const key of Object.keys(job.data)) if (key.startsWith(`${step.name}.`)) delete job.data[key];
  job.data.retriedBy = by;
}

/**
 * Applies `event` to a job object others hold too (a runner's live job, which its step's context shares): the same
 * change `transition` makes, made on that object, so the step keeps the records it holds and nothing is copied.
 * Returns the refusal, if any, and then leaves the job as it is.
 */
export function applyInPlace(job: Job, event: JobEvent): Refusal | undefined {
  const refusal = refusalOf(job, event);
  if (refusal) return refusal;
  apply(job, event);
  return undefined;
}
