/**
 * Bare metal, per shared/contract/HOSTS.md. Stage: download the installer kernel and initrd into /boot, add a
 * grub entry for them (replacing rekick's stale one, never adding a second) and make it the next boot only, so a
 * failed install falls back to the old system. Reinstall: `systemctl reboot`, done when SSH has gone away.
 */
import { hostTarget } from '../steps/host-target';
import { rebootHost } from '../ssh/reboot';
import { quotedOption, shellQuote } from '../ssh/shell-quote';
import type { ExecOptions, RemoteHost } from '../ssh/types';
import { installerValues } from './installer-args';
import type { DriverContext, HostDriver } from './types';

export const INSTALLER_TITLE = 'rekick-installer';
export const INSTALLER_KERNEL = '/boot/vmlinuz-rekick-installer';
export const INSTALLER_INITRD = '/boot/initrd-rekick-installer.img';

export function createBaremetalGrubDriver(): HostDriver {
  return {
    async stage(ctx) {
      const inst = installerValues(ctx.config, ctx.host);
      await withHost(ctx, async (remote, run) => {
        ctx.progress('downloading the installer kernel and initrd into /boot');
        await run(`curl -fsSL -o ${shellQuote(INSTALLER_KERNEL)} ${shellQuote(inst.kernel)}`);
        await run(`curl -fsSL -o ${shellQuote(INSTALLER_INITRD)} ${shellQuote(inst.initrd)}`);
        const info = await remote.exec(`grubby ${quotedOption('--info', INSTALLER_KERNEL)}`, { ...execOptions(ctx), allowFailure: true, onLine: undefined });
        if (info.code === 0) {
          ctx.progress('replacing the installer entry of an earlier attempt');
          await run(`grubby ${quotedOption('--remove-kernel', INSTALLER_KERNEL)}`);
        }
        ctx.progress('adding the one-time installer boot entry');
        await run(
          [
            'grubby',
            quotedOption('--add-kernel', INSTALLER_KERNEL),
            quotedOption('--initrd', INSTALLER_INITRD),
            quotedOption('--title', INSTALLER_TITLE),
            quotedOption('--args', inst.args),
          ].join(' '),
        );
        await run(`grub2-reboot ${shellQuote(INSTALLER_TITLE)}`);
      });
    },

    async reinstall(ctx) {
      ctx.progress('rebooting into the installer');
      await rebootHost(ctx.connector, hostTarget(ctx.host), {
        signal: ctx.signal,
        timeoutMs: ctx.timeoutMs,
        onProgress: ctx.progress,
        onLine: ctx.output,
      });
    },
  };
}

function execOptions(ctx: DriverContext): ExecOptions {
  return { signal: ctx.signal, timeoutMs: ctx.timeoutMs, onLine: (line) => ctx.output(line) };
}

/** One connection to the host (strict host key: it has not been reinstalled yet) for the driver's commands. */
async function withHost(
  ctx: DriverContext,
  fn: (remote: RemoteHost, run: (command: string) => Promise<unknown>) => Promise<void>,
): Promise<void> {
  const remote = await ctx.connector.connect(hostTarget(ctx.host), { hostKeyMode: 'strict', signal: ctx.signal });
  try {
    await fn(remote, (command) => remote.exec(command, execOptions(ctx)));
  } catch (err) {
    await remote.close();
    throw err;
  }
  // Kept for the job's next step on this host, unless the commands rebooted it (the connection is then gone).
  await remote.close({ keep: true });
}
