/**
 * Step 4: start the reinstall (bare metal: reboot into the installer, ends when SSH is gone; virt: virt-install).
 * Resumable: the moment it is issued is saved first. A step resumed after a restart asks the host before issuing
 * it again: if the host still answers with its old key, nothing happened yet and the reinstall is issued; if it is
 * down or presents another key, the install is under way and the step is done.
 */
import type { Step } from './types';
import { sshWhere, substitute } from './plan-text';
import { driverContext, driverFor } from './stage-installer';

export const reinstallStep: Step = {
  name: 'reinstall',
  timeoutMs: (c) => c.timeouts.step,
  retry: false,
  abortable: false,
  describe(host, { config }) {
    const i = config.installer;
    return host.kind === 'virt'
      ? `on ${host.virthost}: virt-install --name ${host.name} --location ${substitute(i.tree ?? '', host)} --extra-args "inst.ks=${substitute(i.kickstart, host)} ${substitute(i.args, host)}" ${i.virtArgs}`
      : `on ${sshWhere(config, host)}: systemctl reboot into the installer (inst.ks=${substitute(i.kickstart, host)})`;
  },
  async run(ctx) {
    const { job } = ctx;
    if (typeof job.data['reinstall.issuedAt'] === 'number') {
      const state = await ctx.connector.probe(ctx.target, { hostKeyMode: 'strict', timeoutMs: Math.min(10_000, ctx.timeoutMs) });
      if (state !== 'handshake') {
        ctx.progress(`resumed: the host is ${state === 'down' ? 'down' : state === 'key-mismatch' ? 'presenting a new host key' : 'not speaking SSH'}, so the install is under way`);
        return;
      }
    }
    job.data['reinstall.issuedAt'] = Date.now();
    await ctx.save();
    await driverFor(ctx).reinstall(driverContext(ctx));
  },
};
