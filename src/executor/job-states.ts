/**
 * What an operator's order (approve, deny, cancel, retry) does to a job, as pure functions. Each check takes the job
 * as the store holds it now and returns it or throws a UserError saying why the order does not apply; each
 * transition returns a changed copy. The executor reads the job, checks and changes it without an await in between,
 * and saves what these return: an order is never decided on a copy read before an await.
 */
import { cloneJson } from '../../store/clone-json';
import { stepTag } from '../present/step-tag';
import { UserError } from '../errors';
import { markDisarm, rearmOnRetry } from '../steps/disarm-installer';
import type { HostConfig } from '../config/schema';
import { STEP_NAMES, type Decision, type Identity, type Job } from '../model';

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

/** Approved: the job goes on to enable the host. */
export function approvedJob(job: Job, approval: Decision): Job {
  const next = cloneJson(job);
  next.approval = approval;
  next.state = 'enabling';
  next.updatedAt = approval.at;
  return next;
}

/** Denied: the job ends; the host stays disabled. */
export function deniedJob(job: Job, denial: Decision): Job {
  const next = cloneJson(job);
  next.denial = denial;
  next.state = 'denied';
  next.updatedAt = denial.at;
  next.endedAt = denial.at;
  next.steps[next.steps.length - 1]!.status = 'skipped';
  return next;
}

/** The host's job a cancel applies to, or a refusal: no job, a cancel already pending, or too late. */
export function cancellableJob(host: string, current: Job | undefined): Job {
  if (!current) throw new UserError(`${host} has no job to cancel`, 'E_NO_JOB');
  if (current.cancel) throw new UserError(`${host}'s job ${current.id} is already being cancelled`, 'E_CANCELLING');
  if (current.state === 'enabling') throw new UserError(`${host} was approved and is being enabled; too late to cancel`, 'E_TOO_LATE');
  return current;
}

/**
 * Ended as cancelled at `at`: the steps that did not run are skipped, and a disarm of the installer the job may have
 * armed on `host` is pending (markDisarm; the caller saves the job, then finishes it). The job must carry its
 * `cancel` decision.
 */
export function cancelledJob(job: Job, at: string, host: HostConfig | undefined): Job {
  const next = cloneJson(job);
  next.state = 'cancelled';
  next.endedAt = at;
  next.updatedAt = at;
  for (const s of next.steps) if (s.status === 'pending' || s.status === 'running') s.status = 'skipped';
  markDisarm(next, host, at);
  return next;
}

/**
 * A failed job resumed from the step that failed, or from stage-installer when its installer was disarmed (it is
 * armed again: rearmOnRetry). A cancel asked before the failure belonged to the attempt that failed: the retry is a
 * later order, and is not undone by it.
 */
export function retriedJob(job: Job, by: Identity, at: string): Job {
  const next = cloneJson(job);
  rearmOnRetry(next);
  const step = next.steps[next.current]!;
  step.status = 'pending';
  step.error = undefined;
  // A failed enable was approved already: it resumes enabling on that approval, not at the approval gate.
  next.state = step.name === 'enable' && next.approval ? 'enabling' : 'running';
  next.error = undefined;
  next.endedAt = undefined;
  next.cancel = undefined;
  next.updatedAt = at;
  // Step-scoped scratch data (`STEP.key`) belongs to the failed attempt: a retry starts that step afresh.
  for (const key of Object.keys(next.data)) if (key.startsWith(`${step.name}.`)) delete next.data[key];
  next.data.retriedBy = by;
  return next;
}
