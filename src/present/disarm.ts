/**
 * How a cancelled or failed job's disarm record (Job.disarm, src/steps/disarm-installer.ts) reads in chat: on the
 * cancel or failure line, in !status, in `rekick status`. It says plainly what the host will do at its next reboot.
 */
import { DISARM_BY_HAND } from '../drivers/installer-paths';
import { STEP_NAMES, type Job } from '../model';
import { boundedLine } from './one-line';
import { stepNumber } from './step-tag';

const STAGE = STEP_NAMES.indexOf('stage-installer');
const REINSTALL = STEP_NAMES.indexOf('reinstall');

function rebootIssued(job: Job): boolean {
  return job.steps[REINSTALL]?.status === 'succeeded';
}

/** One clause for the cancel or failure line, or undefined when the job has no disarm record. */
export function disarmClause(job: Job): string | undefined {
  const d = job.disarm;
  if (!d) return undefined;
  switch (d.outcome) {
    case 'pending':
      return 'disarming the installer did not finish: rekick finishes it at its next start';
    case 'disarmed':
      return 'installer disarmed: the next reboot boots the old system';
    case 'nothing-armed':
      return 'no installer was armed (checked): the next reboot boots the old system';
    case 'installer-ran':
      return 'the installer ran (the host answers with a new host key after the reboot into it): nothing is armed any more, and the old system is gone';
    case 'failed': {
      const why = d.detail ? ` (${boundedLine(d.detail, 200)})` : '';
      // Once the reboot into the installer was issued, grub has used the one-time entry: the host is installing, or
      // its old system came back with a stale entry (not the default).
      if (rebootIssued(job)) return `COULD NOT DISARM the installer${why}: the host was rebooted into it at ${stepNumber('reinstall')} and may be installing; if its old system comes back, run on the host: ${DISARM_BY_HAND}`;
      return `COULD NOT DISARM the installer${why}: the next reboot reinstalls it — run on the host: ${DISARM_BY_HAND}`;
    }
    case 'vm-gone': {
      const again = job.state === 'failed' ? `!retry ${job.host}` : `!reinstall ${job.host}`;
      return job.steps[STAGE]?.status === 'succeeded'
        ? `${job.host}'s VM was destroyed and undefined at ${stepNumber('stage-installer')}; it stays down until reinstalled: ${again}`
        : `${job.host}'s VM may have been destroyed and undefined at ${stepNumber('stage-installer')} (the step did not finish); if so it stays down until reinstalled: ${again}`;
    }
  }
}

/** What the Koji comment of a cancelled or failed job adds about its disarm ('' without a record). */
export function disarmCommentSuffix(job: Job): string {
  switch (job.disarm?.outcome) {
    case 'pending':
      return '; disarming the installer';
    case 'disarmed':
      return '; installer disarmed';
    case 'nothing-armed':
      return '; no installer armed';
    case 'installer-ran':
      return '; the installer ran (new host key)';
    case 'failed':
      return rebootIssued(job)
        ? '; COULD NOT DISARM the installer (the host was rebooted into it: it may be installing)'
        : `; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: ${DISARM_BY_HAND}`;
    case 'vm-gone':
      return '; its VM was destroyed: down until reinstalled';
    default:
      return '';
  }
}

/** The comment rekick set, less the disarm part (the chat line says that in full beside it). */
export function commentWithoutDisarm(job: Job, comment: string): string {
  const suffix = disarmCommentSuffix(job);
  return suffix && comment.endsWith(suffix) ? comment.slice(0, -suffix.length) : comment;
}

/** A few words for a job's one-line summary (!status, !hosts), or '' when there is nothing to say. */
export function disarmShort(job: Job): string {
  switch (job.disarm?.outcome) {
    case 'pending':
      return 'disarming the installer';
    case 'disarmed':
    case 'nothing-armed':
      return 'installer disarmed';
    case 'installer-ran':
      return 'the installer ran';
    case 'failed':
      return 'COULD NOT DISARM the installer';
    case 'vm-gone':
      return 'its VM is gone';
    default:
      return '';
  }
}

/** The error notice of a failed disarm (to the job's room and every notice room). */
export function disarmFailedNotice(job: Job): string {
  return `${job.host} (job ${job.id}, ${job.state}): ${disarmClause(job)}`;
}
