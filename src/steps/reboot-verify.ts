/**
 * Step 7: reboot into the configured system, wait for SSH (the key must now be the one accepted after the
 * reinstall: strict), then run `postinstall.verify`.
 */
import { rebootHost } from '../ssh/reboot';
import { runVerify } from '../ssh/postinstall';
import { waitForSsh } from '../ssh/wait-ssh';
import type { Step } from './types';
import { postinstallConfig } from './postinstall-for';

export const rebootVerifyStep: Step = {
  name: 'reboot-verify',
  timeoutMs: (c) => c.timeouts.sshReturn + c.timeouts.step,
  retry: false,
  abortable: false,
  async run(ctx) {
    const { connector, target, signal } = ctx;
    // Saved before the reboot is issued, so a resumed step does not reboot a host that is already rebooting.
    if (typeof ctx.job.data['reboot-verify.rebootIssuedAt'] !== 'number') {
      ctx.job.data['reboot-verify.rebootIssuedAt'] = Date.now();
      await ctx.save();
      ctx.progress('rebooting');
      await rebootHost(connector, target, { signal, timeoutMs: ctx.config.timeouts.step });
    }
    await waitForSsh(connector, target, {
      hostKeyMode: 'strict',
      timeoutMs: ctx.config.timeouts.sshReturn,
      signal,
      onProgress: ctx.progress,
      what: `waiting for SSH on ${ctx.host.name} after the reboot`,
      keepConnection: true, // verify runs on it
    });
    const remote = await connector.connect(target, { hostKeyMode: 'strict', signal });
    try {
      ctx.progress('verifying');
      await runVerify(remote, ctx.host, postinstallConfig(ctx.config, ctx.host), { onLine: ctx.output, signal });
    } finally {
      await remote.close();
    }
  },
};
