/** The comments rekick sets on a host in Koji: they say why, who asked and which job, so admins can act. */
import type { Identity, Job, StepName } from '../types';

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

export function failureComment(job: Job, step: StepName, message: string): string {
  return `rekick: reinstall failed at ${step} (job ${job.id}): ${oneLine(message)}; left disabled`.slice(0, 255);
}

export function cancelComment(job: Job, by: Identity, step: StepName): string {
  return `rekick: reinstall cancelled by ${who(by)} at ${step} (job ${job.id}); left disabled`.slice(0, 255);
}

export function denyComment(job: Job, by: Identity, reason?: string): string {
  return `rekick: enable denied by ${who(by)} (job ${job.id})${reason ? `: ${oneLine(reason)}` : ''}`.slice(0, 255);
}

export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '').trim();
}
