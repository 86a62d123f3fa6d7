/**
 * Step 6: SSH in and force the post-install configuration (files, then commands), or run the site's Ansible
 * playbook limited to the host. Idempotent: a resumed step rewrites the same files and reruns the commands.
 */
import { runPlaybook } from '../ssh/ansible';
import { runPostinstall } from '../ssh/postinstall';
import type { Step } from './types';
import { afterReinstallKeyMode } from './wait-ssh';
import { postinstallConfig } from './postinstall-for';

export const postInstallStep: Step = {
  name: 'post-install',
  timeoutMs: (c) => c.timeouts.step,
  retry: true,
  abortable: false,
  async run(ctx) {
    const { host } = ctx;
    const config = postinstallConfig(ctx.config, host);
    if (config.postinstall.playbook) {
      await runPlaybook(host, config.postinstall.playbook, {
        onLine: ctx.output,
        signal: ctx.signal,
        sshUser: config.ssh.user,
        keyPath: config.ssh.key,
        knownHostsPath: config.ssh.knownHosts,
        address: ctx.target.address,
        port: ctx.target.port,
      });
      return;
    }
    const remote = await ctx.connector.connect(ctx.target, {
      hostKeyMode: afterReinstallKeyMode(ctx),
      onKeyChanged: ctx.hostKeyChanged,
      signal: ctx.signal,
    });
    try {
      await runPostinstall(remote, host, config, { onLine: ctx.output, signal: ctx.signal });
    } catch (err) {
      await remote.close();
      throw err;
    }
    await remote.close({ keep: true }); // reboot-verify's reboot is issued on it
  },
};
