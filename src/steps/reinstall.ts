/** Step 4: start the reinstall (bare metal: reboot into the installer, ends when SSH is gone; virt: virt-install). */
import type { Step } from './types';
import { driverContext, driverFor } from './stage-installer';

export const reinstallStep: Step = {
  name: 'reinstall',
  timeoutMs: (c) => c.timeouts.step,
  retry: false,
  abortable: false,
  async run(ctx) {
    await driverFor(ctx).reinstall(driverContext(ctx));
    ctx.job.data.reinstallStartedAt = Date.now();
  },
};
