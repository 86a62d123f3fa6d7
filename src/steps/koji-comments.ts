/** The comments rekick sets on a host in Koji: they say why, who asked and which job, so admins can act. */
import { disarmCommentSuffix } from '../chat/render-disarm';
import type { Identity, Job, StepName } from '../types';

/** Koji keeps a host comment of at most this many characters. */
const MAX = 255;

export function who(identity: Identity): string {
  const id = identity.id ? `${identity.source}:${identity.id}` : `${identity.source}:${identity.display}`;
  return identity.display && identity.display !== identity.id ? `${identity.display} (${id})` : id;
}

export function disableComment(job: Job): string {
  if (job.options.virthostJobId) return guestDisableComment(job);
  const reason = job.reason ? `: ${job.reason}` : '';
  return `rekick: reinstalling, asked by ${who(job.requestedBy)} (job ${job.id})${reason}`.slice(0, 255);
}

/** A guest disabled because its virthost is reinstalled: names the virthost's job, and the guest's own. */
export function guestDisableComment(job: Job): string {
  const { virthost, virthostJobId } = job.options;
  return `rekick: virthost ${virthost} is being reinstalled (job ${virthostJobId}, by ${who(job.requestedBy)}); this guest is reinstalled after it (job ${job.id})`.slice(0, 255);
}

/** A failure names the step, the job and the cause; what became of the installer (job.disarm) is kept whole. */
export function failureComment(job: Job, step: StepName, message: string): string {
  const suffix = disarmCommentSuffix(job);
  const head = `rekick: reinstall failed at ${step} (job ${job.id}): `;
  const tail = `; left disabled${suffix}`;
  if (!suffix) return `${head}${oneLine(message)}${tail}`.slice(0, MAX);
  return `${head}${fit(oneLine(message), MAX - head.length - tail.length)}${tail}`;
}

export function cancelComment(job: Job, by: Identity, step: StepName): string {
  const suffix = disarmCommentSuffix(job);
  const base = `rekick: reinstall cancelled by ${who(by)} at ${step} (job ${job.id}); left disabled`;
  return suffix ? `${fit(base, MAX - suffix.length)}${suffix}` : base.slice(0, MAX);
}

/** `text` in at most `room` characters (an ellipsis where it was cut). */
function fit(text: string, room: number): string {
  if (text.length <= room) return text;
  return room <= 1 ? '' : `${text.slice(0, room - 1)}…`;
}

export function denyComment(job: Job, by: Identity, reason?: string): string {
  return `rekick: enable denied by ${who(by)} (job ${job.id})${reason ? `: ${oneLine(reason)}` : ''}`.slice(0, 255);
}

export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '').trim();
}
