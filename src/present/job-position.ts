/** Where a job is and what became of it, in a few words: for refusals that name a job, rolling status and virthost waits. */
import type { Frozen } from '../../store/store';
import { STEP_NAMES, type Decision, type Job } from '../model';
import { chatName } from './identity';
import { currentStep, stepTag } from './step-tag';

/** A job as the store hands it out (frozen) or as a runner holds it. */
type DeepReadonlyJob = Frozen<Job>;

/** `waiting for approval`, `running at [3/8] stage-installer`. */
export function describeJobPosition(job: Job): string {
  if (job.state === 'awaiting-approval') return 'waiting for approval';
  if (job.state === 'enabling') return 'being enabled';
  return `${job.state} at ${stepTag(STEP_NAMES[job.current]!, job.current)}${job.disarm?.outcome === 'pending' ? ', disarming its installer' : ''}`;
}

/** A job of a rolling run in flight (`!rolling status`): `buildarm-01 [4/8] reinstall`, `buildarm-02 waiting for approval`. */
export function inFlightPosition(job: Pick<Job, 'host' | 'state' | 'current'>): string {
  if (job.state === 'awaiting-approval') return `${job.host} waiting for approval`;
  if (job.state === 'enabling') return `${job.host} enabling`;
  if (job.state === 'queued') return `${job.host} queued`;
  return `${job.host} ${stepTag(STEP_NAMES[job.current]!, job.current)}`;
}

/** What became of a job, for a refusal that names it: `it was cancelled by kevin`. */
export function describeJobOutcome(job: Job): string {
  const by = (d: Decision | undefined) => (d ? ` by ${chatName(d.by)}` : '');
  switch (job.state) {
    case 'awaiting-approval':
      return job.cancel ? `its cancel${by(job.cancel)} is pending` : 'it is waiting for approval';
    case 'enabling':
      return `it was approved${by(job.approval)} and is being enabled`;
    case 'succeeded':
      return job.approval ? `it was approved${by(job.approval)} and enabled` : 'it finished';
    case 'denied':
      return `it was denied${by(job.denial)}`;
    case 'cancelled':
      return `it was cancelled${by(job.cancel)}`;
    case 'failed':
      return `it failed at ${stepTag(STEP_NAMES[job.current]!, job.current)}`;
    default:
      return `it is ${describeJobPosition(job)}`;
  }
}

/** Where a job stands, for a waiting line: `at [4/8] reinstall`, `waiting for approval`, `queued`. */
export function waitingPosition(job: DeepReadonlyJob): string {
  if (job.state === 'awaiting-approval') return 'waiting for approval';
  if (job.state === 'enabling') return 'being enabled';
  if (job.state === 'queued') return 'queued';
  return `at ${stepTag(STEP_NAMES[job.current]!, job.current)}`;
}

/** How a job ended without success: `failed at [5/8] wait-ssh`, `was cancelled by kevin at [3/8] stage-installer`. */
export function howJobEnded(job: DeepReadonlyJob | undefined): string {
  if (!job) return 'is no longer in the state file';
  const at = job.error?.step ?? currentStep(job);
  if (job.state === 'cancelled') return `was cancelled by ${job.cancel?.by.display ?? 'an operator'} at ${stepTag(at)}`;
  if (job.state === 'failed') return `failed at ${stepTag(at)}`;
  return `ended ${job.state}`;
}
