/**
 * Step 5: wait until the freshly installed host completes an SSH handshake with an acceptable key. Under
 * `accept-new-after-reinstall` a changed key is accepted here (this job reinstalled the host), recorded and posted.
 */
import type { HostKeyMode } from '../ssh/types';
import { waitForSsh } from '../ssh/wait-ssh';
import type { Step, StepContext } from './types';

/** The host key mode between `reinstall` and `post-install` of a job that reinstalled this host. */
export function afterReinstallKeyMode(ctx: StepContext): HostKeyMode {
  const reinstalled = ctx.job.steps.find((s) => s.name === 'reinstall')?.status === 'succeeded';
  return ctx.config.ssh.hostKeyPolicy === 'accept-new-after-reinstall' && reinstalled ? 'accept-changed' : 'strict';
}

export const waitSshStep: Step = {
  name: 'wait-ssh',
  timeoutMs: (c) => c.timeouts.sshReturn,
  retry: false,
  abortable: true,
  async run(ctx) {
    await waitForSsh(ctx.connector, ctx.target, {
      hostKeyMode: afterReinstallKeyMode(ctx),
      onKeyChanged: ctx.hostKeyChanged,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      onProgress: ctx.progress,
      what: `wait-ssh on ${ctx.host.name}`,
      keepConnection: true, // post-install logs in next
    });
  },
};
