/** Where a job is, in a few words, for a refusal that names it: `waiting for approval`, `running at [3/8] stage-installer`. */
import { STEP_NAMES, type Job } from '../model';
import { stepTag } from './step-tag';

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
