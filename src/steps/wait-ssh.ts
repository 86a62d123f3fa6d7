/**
 * Step 5: wait until the freshly installed host completes an SSH handshake with an acceptable key, then require
 * proof that it is a new system (reinstall-proof.ts). Under `accept-new-after-reinstall` a changed key is accepted
 * here (this job reinstalled the host), recorded and posted; the key the host came back with is pinned for the rest
 * of the job (host-key-pin.ts).
 */
import { waitForSsh } from '../ssh/wait-ssh';
import { waitSshKeyOptions } from './host-key-pin';
import { proveNewSystem } from './reinstall-proof';
import type { Step } from './types';
import { sshWhere } from './plan-text';

export const waitSshStep: Step = {
  name: 'wait-ssh',
  timeoutMs: (c) => c.timeouts.sshReturn,
  retry: false,
  abortable: true,
  describe: (host, { config }) =>
    `wait up to ${config.timeouts.sshReturn / 1000}s for SSH on ${sshWhere(config, host)} (host key policy ${config.ssh.hostKeyPolicy}); require a new host key or /etc/machine-id`,
  async run(ctx) {
    await waitForSsh(ctx.connector, ctx.target, {
      ...waitSshKeyOptions(ctx),
      onKeyChanged: ctx.hostKeyChanged,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      onProgress: ctx.progress,
      what: `wait-ssh on ${ctx.host.name}`,
      keepConnection: true,
    });
    // The login the wait handed on (a key accepted by it is pinned now: a new login must present that key).
    const remote = await ctx.connector.connect(ctx.target, { ...waitSshKeyOptions(ctx), onKeyChanged: ctx.hostKeyChanged, signal: ctx.signal });
    try {
      // Saved with the step's end (the same write starts post-install); a crash before it proves again.
      ctx.job.proof = await proveNewSystem(ctx, remote);
    } catch (err) {
      await remote.close();
      throw err;
    }
    await remote.close({ keep: true }); // post-install logs in next
  },
};
