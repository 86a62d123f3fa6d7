/** The state a job left its host in (Koji, and the installer it may have armed), for failures, cancels and denials. */
import type { Job } from '../model';
import { commentWithoutDisarm, disarmClause } from './disarm';
import { boundedLine } from './one-line';

/** `host not touched in Koji`, or `host left disabled in Koji ("the comment")`. */
export function leftState(job: Job): string {
  const disabled = job.steps[0]?.status === 'succeeded';
  if (!disabled) return 'host not touched in Koji';
  return `host left disabled in Koji${job.kojiComment ? ` ("${boundedLine(commentWithoutDisarm(job, job.kojiComment), 200)}")` : ''}`;
}

/** leftState, then what became of the installer the job may have armed (disarm.ts). */
export function leftStateAndDisarm(job: Job): string {
  const disarm = disarmClause(job);
  return disarm ? `${leftState(job)}; ${disarm}` : leftState(job);
}
