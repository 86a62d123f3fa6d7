/**
 * Whether an operator's order (approve, deny, cancel, retry) applies to a host's job: each check takes the job as the store
 * holds it now and returns it, or throws a UserError saying why not. The executor reads, checks and changes the job
 * (job-transitions.ts) without an await in between: an order is never decided on a copy read before an await.
 */
import { UserError } from '../errors';
import type { Job } from '../model';
import { describeJobOutcome, describeJobPosition } from '../present/job-position';

/** The job an approval or denial of `host` is for. */
export interface DecisionTarget {
  /** The host's job that is not finished, as the store holds it now. */
  current: Job | undefined;
  /** The job the approver meant (a Slack button names it): the decision applies to that job only. */
  jobId?: string;
  /** Looks a job up by id (for a refusal that says what became of the job meant). */
  find(id: string): Job | undefined;
}

/**
 * The job waiting for approval that `!approve`/`!deny` of `host` decides on. Refused when the host waits for
 * nothing, when the job meant is not the one waiting (a later job of the host never takes an approval given to an
 * earlier one), and when a cancel of the job is pending (the job ends cancelled, never enabled).
 */
export function decidableJob(host: string, target: DecisionTarget, nothing: string): Job {
  const { current, jobId } = target;
  if (jobId !== undefined) {
    const meant = current?.id === jobId ? current : target.find(jobId);
    if (!meant || meant.host !== host) throw new UserError(`${host} has no job ${jobId}; ${nothing}`, 'E_NOT_WAITING');
    if (meant.state !== 'awaiting-approval') {
      const now = current && current.id !== meant.id ? `; ${host} is now in job ${current.id} (${describeJobPosition(current)})` : '';
      throw new UserError(`${host}'s job ${meant.id} is no longer waiting for approval (${describeJobOutcome(meant)})${now}; ${nothing}`, 'E_NOT_WAITING');
    }
  }
  if (!current || current.state !== 'awaiting-approval') {
    throw new UserError(`${host} is not waiting for approval${current ? ` (job ${current.id} is ${describeJobPosition(current)})` : ''}; ${nothing}`, 'E_NOT_WAITING');
  }
  if (current.cancel) {
    throw new UserError(`${host}'s job ${current.id} is being cancelled (asked by ${current.cancel.by.display}); it ends cancelled and stays disabled; ${nothing}`, 'E_CANCELLING');
  }
  return current;
}

/** The host's job a cancel applies to, or a refusal: no job, a cancel already pending, or too late. */
export function cancellableJob(host: string, current: Job | undefined): Job {
  if (!current) throw new UserError(`${host} has no job to cancel`, 'E_NO_JOB');
  if (current.cancel) throw new UserError(`${host}'s job ${current.id} is already being cancelled`, 'E_CANCELLING');
  if (current.state === 'enabling') throw new UserError(`${host} was approved and is being enabled; too late to cancel`, 'E_TOO_LATE');
  return current;
}

/** The host's failed job that `!retry` resumes (`last`: its latest job), or a refusal. */
export function retryableJob(host: string, active: Job | undefined, last: Job | undefined): Job {
  if (active) throw new UserError(`${host} is in a job that has not failed; nothing to retry`, 'E_NOT_FAILED');
  if (!last || last.state !== 'failed') {
    throw new UserError(`${host} has no failed job to retry${last ? ` (its last job ${last.id} ${last.state})` : ''}`, 'E_NOT_FAILED');
  }
  return last;
}
