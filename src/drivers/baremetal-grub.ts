/**
 * Bare metal, per the host requirements (docs/operator-guide.md, "SSH"). Stage: download the installer kernel and
 * initrd into /boot, add a grub entry for them (replacing rekick's stale one, never adding a second) and make it
 * the next boot only, so a failed install falls back to the old system. Reinstall: `systemctl reboot`, done when
 * SSH has gone away. Disarm (a job that ends before the installer booted): `grub2-editenv - unset next_entry`, the
 * installer entry removed and its kernel and initrd deleted from /boot, so the next ordinary reboot boots the old
 * system.
 */
import { hostTarget } from '../steps/host-target';
import { rebootHost } from '../ssh/reboot';
import { quotedOption, shellQuote } from '../ssh/shell-quote';
import type { ExecOptions, RemoteHost } from '../ssh/types';
import { installerValues } from './installer-args';
import type { DisarmResult, DriverContext, HostDriver } from './types';

import { INSTALLER_INITRD, INSTALLER_KERNEL, INSTALLER_TITLE } from './installer-paths';

export { INSTALLER_INITRD, INSTALLER_KERNEL, INSTALLER_TITLE };

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

    async disarm(ctx) {
      // The old system, as before stage (strict host key); the job is over, so the connection is not kept.
      const remote = await ctx.connector.connect(hostTarget(ctx.host), { hostKeyMode: 'strict', signal: ctx.signal });
      try {
        return await disarmOn(remote, ctx);
      } finally {
        await remote.close();
      }
    },
  };
}

/** The commands of a disarm, on a connection to the old system; each one harmless when there is nothing to undo. */
async function disarmOn(remote: RemoteHost, ctx: DriverContext): Promise<DisarmResult> {
  const quiet = { ...execOptions(ctx), allowFailure: true, onLine: undefined };
  const env = await remote.exec('grub2-editenv - list', quiet);
  const next = env.code === 0 ? /^next_entry=(.*)$/m.exec(env.stdout)?.[1]?.trim() || undefined : undefined;
  ctx.progress('unsetting the one-time boot entry (next_entry)');
  await remote.exec('grub2-editenv - unset next_entry', execOptions(ctx));
  const info = await remote.exec(`grubby ${quotedOption('--info', INSTALLER_KERNEL)}`, quiet);
  if (info.code === 0) {
    ctx.progress('removing the installer boot entry');
    await remote.exec(`grubby ${quotedOption('--remove-kernel', INSTALLER_KERNEL)}`, execOptions(ctx));
  }
  await remote.exec(`rm -f ${shellQuote(INSTALLER_KERNEL)} ${shellQuote(INSTALLER_INITRD)}`, execOptions(ctx));
  const said: string[] = [];
  if (env.code !== 0) said.push('next_entry unset (grub2-editenv list failed, so whether it was set is not known)');
  else if (next === INSTALLER_TITLE) said.push(`next_entry ${INSTALLER_TITLE} unset`);
  else if (next) said.push(`next_entry "${next}" (not rekick's) unset`);
  else said.push('next_entry was not set');
  said.push(info.code === 0 ? 'installer entry removed' : 'no installer entry');
  said.push('installer kernel and initrd removed from /boot');
  return { armed: env.code !== 0 || next !== undefined || info.code === 0, detail: said.join(', ') };
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
