/** Where a job is and what became of it, in a few words, for the refusals of orders that name a job. */
import { stepTag } from '../chat/render';
import { STEP_NAMES, type Decision, type Job } from '../model';

/** Where a job is, in a few words: `waiting for approval`, `running at [3/8] stage-installer`. */
export function describeJobPosition(job: Job): string {
  if (job.state === 'awaiting-approval') return 'waiting for approval';
  if (job.state === 'enabling') return 'being enabled';
  return `${job.state} at ${stepTag(STEP_NAMES[job.current]!, job.current)}${job.disarm?.outcome === 'pending' ? ', disarming its installer' : ''}`;
}

/** What became of a job, for a refusal that names it: `it was cancelled by kevin`. */
export function describeJobOutcome(job: Job): string {
  const by = (d: Decision | undefined) => (d ? ` by ${d.by.display || d.by.id || d.by.source}` : '');
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
