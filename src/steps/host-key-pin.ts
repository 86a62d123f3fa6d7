/**
 * Which host keys a job trusts after the reinstall. The window for a changed key (hostKeyPolicy
 * accept-new-after-reinstall) is wait-ssh only, and only until a key is accepted there; from then on, and in every
 * later step (post-install, reboot-verify, a `!retry` of them days later, after a restart), the host must present
 * exactly the key it came back with: the job's pinned key.
 */
import type { HostKeyMode } from '../ssh/types';
import type { Job } from '../model';
import type { StepContext } from './types';

export interface KeyOptions {
  hostKeyMode: HostKeyMode;
  pin?: string;
}

/** The key the host came back with after the reinstall (wait-ssh's proof, or a key accepted in wait-ssh). */
export function pinnedHostKey(job: Job): string | undefined {
  return job.proof?.hostKey.after ?? job.hostKey?.accepted;
}

/**
 * From post-install on: the pinned key only. A job with none recorded (it passed wait-ssh before rekick pinned
 * keys) gets known_hosts, strictly; never the window.
 */
export function pinnedKeyOptions(job: Job): KeyOptions {
  const pin = pinnedHostKey(job);
  return pin ? { hostKeyMode: 'strict', pin } : { hostKeyMode: 'strict' };
}

/** wait-ssh: a changed key is acceptable once the reinstall was issued, until one has been accepted. */
export function waitSshKeyOptions(ctx: StepContext): KeyOptions {
  const pin = pinnedHostKey(ctx.job);
  if (pin) return { hostKeyMode: 'strict', pin };
  const reinstalled = ctx.job.steps.find((s) => s.name === 'reinstall')?.status === 'succeeded';
  return { hostKeyMode: ctx.config.ssh.hostKeyPolicy === 'accept-new-after-reinstall' && reinstalled ? 'accept-changed' : 'strict' };
}
