/** The comments rekick sets on a host in Koji: they say why, who asked and which job, so admins can act. */
import { disarmCommentSuffix } from './disarm';
import { commentName } from './identity';
import { commentLine } from './one-line';
import type { Identity, Job, StepName } from '../model';

/** Koji keeps a host comment of at most this many characters. */
const MAX = 255;

export function disableComment(job: Job): string {
  if (job.options.virthostJobId) return guestDisableComment(job);
  const reason = job.reason ? `: ${job.reason}` : '';
  return `rekick: reinstalling, asked by ${commentName(job.requestedBy)} (job ${job.id})${reason}`.slice(0, 255);
}

/** A guest disabled because its virthost is reinstalled: names the virthost's job, and the guest's own. */
export function guestDisableComment(job: Job): string {
  const { virthost, virthostJobId } = job.options;
  return `rekick: virthost ${virthost} is being reinstalled (job ${virthostJobId}, by ${commentName(job.requestedBy)}); this guest is reinstalled after it (job ${job.id})`.slice(0, 255);
}

/**
 * A failure names the step, the job and the cause. What became of the installer (job.disarm) is kept whole: a
 * failed disarm's warning takes the room of the cause (chat and !status have it) rather than be cut.
 */
export function failureComment(job: Job, step: StepName, message: string): string {
  const suffix = disarmCommentSuffix(job);
  if (!suffix) return `rekick: reinstall failed at ${step} (job ${job.id}): ${commentLine(message)}; left disabled`.slice(0, MAX);
  const head = `rekick: reinstall failed at ${step} (job ${job.id})`;
  const left = '; left disabled';
  const room = MAX - head.length - 2 - left.length - suffix.length;
  if (room >= 12) return `${head}: ${fit(commentLine(message), room)}${left}${suffix}`;
  if (head.length + left.length + suffix.length <= MAX) return `${head}${left}${suffix}`;
  return `${head}${suffix}`.slice(0, MAX);
}

export function cancelComment(job: Job, by: Identity, step: StepName): string {
  const suffix = disarmCommentSuffix(job);
  const base = `rekick: reinstall cancelled by ${commentName(by)} at ${step} (job ${job.id}); left disabled`;
  if (base.length + suffix.length <= MAX) return `${base}${suffix}`;
  // Within Koji's 255 characters: the disarm part whole, then the step and the job, then who (by name only).
  const short = `rekick: reinstall cancelled at ${step} (job ${job.id}) by `;
  return `${short}${fit(by.display || by.id || by.source, MAX - short.length - suffix.length)}${suffix}`.slice(0, MAX);
}

/** `text` in at most `room` characters (an ellipsis where it was cut). */
function fit(text: string, room: number): string {
  if (text.length <= room) return text;
  return room <= 1 ? '' : `${text.slice(0, room - 1)}…`;
}

export function denyComment(job: Job, by: Identity, reason?: string): string {
  return `rekick: enable denied by ${commentName(by)} (job ${job.id})${reason ? `: ${commentLine(reason)}` : ''}`.slice(0, 255);
}
