/**
 * Step 7: reboot into the configured system, wait for SSH (the key must be the one the host came back with in
 * wait-ssh: pinned), then run `postinstall.verify`. A step resumed after a restart checks the host's boot id: a
 * host still on the boot from before the recorded reboot is rebooted now, never verified as it is.
 */
import { readBootId } from '../ssh/boot-id';
import { rebootHost } from '../ssh/reboot';
import { runVerify } from '../ssh/postinstall-runner';
import type { RemoteHost } from '../ssh/types';
import { waitForSsh } from '../ssh/wait-ssh';
import type { Step, StepContext } from './types';
import { substitute } from './plan-text';
import { pinnedKeyOptions } from './host-key-pin';
import { postinstallConfig } from './postinstall-config';

const ISSUED_AT = 'reboot-verify.rebootIssuedAt';
const BOOT_ID = 'reboot-verify.bootIdBefore';

export const rebootVerifyStep: Step = {
  name: 'reboot-verify',
  timeoutMs: (c) => c.timeouts.sshReturn + c.timeouts.step,
  retry: false,
  abortable: false,
  describe: (host, { config }) =>
    `systemctl reboot; wait for SSH; verify ${postinstallConfig(config, host).postinstall.verify.map((c) => `"${substitute(c, host)}"`).join(', ') || '(nothing)'}`,
  async run(ctx) {
    const { signal } = ctx;
    // Saved before the reboot is issued, so a resumed step does not reboot a host that is already rebooting.
    const resumed = typeof ctx.job.data[ISSUED_AT] === 'number';
    if (!resumed) await reboot(ctx);
    let remote = await backUp(ctx);
    try {
      const before = ctx.job.data[BOOT_ID];
      if (resumed && typeof before === 'string' && (await readBootId(remote, signal)) === before) {
        // rekick stopped between recording the reboot and issuing it: the host still runs the boot from before.
        // (After a reboot rekick saw through, it goes on to verify whatever the boot id says: a host that went down
        // and came back has rebooted, even where its boot id stays, as in a container or a test harness.)
        await remote.close();
        ctx.progress('resumed: the host has not rebooted yet (same boot id as before): rebooting it now');
        await reboot(ctx);
        remote = await backUp(ctx);
      }
      ctx.progress('verifying');
      await runVerify(remote, ctx.host, postinstallConfig(ctx.config, ctx.host), { onLine: ctx.output, signal });
    } finally {
      await remote.close();
    }
  },
};

async function reboot(ctx: StepContext): Promise<void> {
  ctx.progress('rebooting');
  await rebootHost(ctx.connector, ctx.target, {
    signal: ctx.signal,
    timeoutMs: ctx.config.timeouts.step,
    onProgress: ctx.progress,
    pin: pinnedKeyOptions(ctx.job).pin,
    beforeReboot: async (bootId) => {
      ctx.job.data[ISSUED_AT] = Date.now();
      if (bootId) ctx.job.data[BOOT_ID] = bootId;
      else delete ctx.job.data[BOOT_ID];
      await ctx.save();
    },
  });
}

/** Waits for SSH after the reboot and logs in (the key must be the one the host came back with: pinned). */
async function backUp(ctx: StepContext): Promise<RemoteHost> {
  const keys = pinnedKeyOptions(ctx.job);
  await waitForSsh(ctx.connector, ctx.target, {
    ...keys,
    timeoutMs: ctx.config.timeouts.sshReturn,
    signal: ctx.signal,
    onProgress: ctx.progress,
    what: `waiting for SSH on ${ctx.host.name} after the reboot`,
    keepConnection: true, // verify runs on it
  });
  return ctx.connector.connect(ctx.target, { ...keys, signal: ctx.signal });
}
