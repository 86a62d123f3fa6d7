/**
 * What can happen to a job (JobEvent), and in which of its states each event applies (ALLOWED); any other pair is a
 * typed refusal. The transitions themselves are in job-transitions.ts.
 */
import type { HostConfig } from '../config/schema';
import type { Decision, DisarmRecord, Identity, JobState, StepErrorRecord } from '../model';

export type JobEvent =
  /** A runner takes the job: a queued job is running from now on. */
  | { type: 'run' }
  /** The runner's position moves to step `index` (a skipped step is passed over, the gate is reached). */
  | { type: 'move'; index: number }
  /** Step `index` starts its first attempt. */
  | { type: 'step-started'; index: number; at: string }
  /** Step `index` starts another attempt after a retryable error. */
  | { type: 'attempt-started'; index: number; at: string }
  | { type: 'step-progress'; index: number; message: string }
  | { type: 'step-output'; index: number; line: string }
  | { type: 'host-key-accepted'; previous?: string; fingerprint: string; at: string }
  /** Step `index` succeeded; `next`: the step after it starts in the same write. */
  | { type: 'step-succeeded'; index: number; at: string; durationMs: number; next?: { index: number; at: string } }
  /** A cancel stopped step `index` (it did not start, or it was aborted): skipped. */
  | { type: 'step-cancelled'; index: number; at: string }
  /** Step `index` failed for good: the job ends failed, a disarm of its installer pending if it needs one. */
  | { type: 'step-failed'; index: number; at: string; error: StepErrorRecord; outputTail: string[]; host: HostConfig | undefined }
  | { type: 'await-approval'; at: string }
  | { type: 'approve'; decision: Decision }
  | { type: 'deny'; decision: Decision }
  /** A cancel is asked: recorded, acted on at the next safe point (or at once without a runner). */
  | { type: 'cancel'; decision: Decision }
  /** Ended as cancelled: steps that did not run are skipped, a disarm pending if needed. */
  | { type: 'end-cancelled'; at: string; host: HostConfig | undefined }
  | { type: 'retry'; by: Identity; at: string }
  | { type: 'disarm-outcome'; record: DisarmRecord }
  | { type: 'comment-set'; comment: string }
  /** Enabled (or nothing to enable): the job succeeded. */
  | { type: 'succeed'; at: string };

export type JobEventType = JobEvent['type'];

export interface Refusal {
  refused: JobEventType;
  state: JobState;
  reason: string;
}

/** What the steps report while they run is recorded in any state a runner's job can be in (a step may outlive its timeout). */
const REPORTING: readonly JobState[] = ['running', 'enabling', 'awaiting-approval', 'failed'];

/** The states each event applies in; every other state refuses it. */
export const ALLOWED: Readonly<Record<JobEventType, readonly JobState[]>> = {
  run: ['queued', 'running'],
  move: ['running'],
  'step-started': ['running', 'enabling'],
  'attempt-started': ['running', 'enabling'],
  'step-progress': REPORTING,
  'step-output': REPORTING,
  'host-key-accepted': REPORTING,
  'step-succeeded': ['running', 'enabling'],
  'step-cancelled': ['running', 'enabling'],
  'step-failed': ['running', 'enabling'],
  'await-approval': ['running'],
  approve: ['awaiting-approval'],
  deny: ['awaiting-approval'],
  // A cancel racing the runner's last write (a failure, a success without enable) is recorded on the ended job.
  cancel: ['queued', 'running', 'awaiting-approval', 'failed', 'succeeded'],
  'end-cancelled': ['queued', 'running', 'awaiting-approval'],
  retry: ['failed'],
  'disarm-outcome': ['cancelled', 'failed'],
  'comment-set': ['denied', 'cancelled', 'failed'],
  succeed: ['running', 'enabling'],
};
