/**
 * Step 3: record what identifies the installed system (system-before.ts), then stage the installer with the host
 * kind's driver (grub entry on bare metal; virsh on the virthost).
 */
import type { Step, StepContext } from './types';
import { sshWhere, substitute } from './plan-text';
import { recordSystemBefore } from './system-before';
import type { DriverContext, HostDriver } from '../drivers/types';

export function driverFor(ctx: StepContext): HostDriver {
  return ctx.host.kind === 'virt' ? ctx.drivers.virt : ctx.drivers.baremetal;
}

export function driverContext(ctx: StepContext): DriverContext {
  return {
    host: ctx.host,
    config: ctx.config,
    connector: ctx.connector,
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs,
    progress: ctx.progress,
    output: ctx.output,
    hostInJob: ctx.hostInJob,
  };
}

export const stageInstallerStep: Step = {
  name: 'stage-installer',
  timeoutMs: (c) => c.timeouts.step,
  retry: true,
  abortable: false,
  describe: (host, { config }) =>
    host.kind === 'virt'
      ? `on ${host.virthost}: virsh destroy ${host.name}; virsh undefine ${host.name} --nvram`
      : `on ${sshWhere(config, host)}: record the host key and /etc/machine-id; fetch ${substitute(config.installer.kernel, host)} and ${substitute(config.installer.initrd, host)} into /boot; grubby --add-kernel; grub2-reboot (one time)`,
  async run(ctx) {
    await recordSystemBefore(ctx); // saved before anything is armed
    await driverFor(ctx).stage(driverContext(ctx));
  },
};
