/**
 * Step 7: reboot into the configured system, wait for SSH (the key must now be the one accepted after the
 * reinstall: strict), then run `postinstall.verify`.
 */
import { rebootHost } from '../ssh/reboot';
import { runVerify } from '../ssh/postinstall';
import { waitForSsh } from '../ssh/wait-ssh';
import type { Step } from './types';

export const rebootVerifyStep: Step = {
  name: 'reboot-verify',
  timeoutMs: (c) => c.timeouts.sshReturn + c.timeouts.step,
  retry: false,
  abortable: false,
  async run(ctx) {
    const { connector, target, signal } = ctx;
    if (ctx.job.data.rebootedForVerify !== true) {
      ctx.progress('rebooting');
      await rebootHost(connector, target, { signal, timeoutMs: ctx.config.timeouts.step });
      ctx.job.data.rebootedForVerify = true;
      await ctx.save();
    }
    await waitForSsh(connector, target, {
      hostKeyMode: 'strict',
      timeoutMs: ctx.config.timeouts.sshReturn,
      signal,
      onProgress: ctx.progress,
    });
    const remote = await connector.connect(target, { hostKeyMode: 'strict', signal });
    try {
      ctx.progress('verifying');
      await runVerify(remote, ctx.host, ctx.config, { onLine: ctx.output, signal });
    } finally {
      await remote.close();
    }
  },
};
