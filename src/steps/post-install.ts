/**
 * Step 6: SSH in and force the post-install configuration (files, then commands), or run the site's Ansible
 * playbook limited to the host. Idempotent: a resumed step rewrites the same files and reruns the commands.
 * The host must present the key it came back with in wait-ssh (pinned): no key is accepted here, so secrets go
 * only to the system rekick saw come back.
 */
import { runPlaybook } from '../ssh/ansible';
import { runPostinstall } from '../ssh/postinstall-runner';
import type { Step } from './types';
import { substitute } from './plan-text';
import { pinnedKeyOptions } from './host-key-pin';
import { postinstallConfig } from './postinstall-config';

export const postInstallStep: Step = {
  name: 'post-install',
  timeoutMs: (c) => c.timeouts.step,
  retry: true,
  abortable: false,
  describe(host, { config }) {
    // As it runs for this host (a virthost takes virthostPostinstall).
    const post = postinstallConfig(config, host).postinstall;
    if (post.playbook) return `ansible-playbook ${post.playbook.path} --limit ${host.name}`;
    return `write ${post.files.map((f) => substitute(f.dest, host)).join(', ') || 'no files'}; run ${post.commands.map((c) => `"${substitute(c, host)}"`).join(', ') || 'no commands'}`;
  },
  async run(ctx) {
    const { host } = ctx;
    const config = postinstallConfig(ctx.config, host);
    const keys = pinnedKeyOptions(ctx.job);
    if (config.postinstall.playbook) {
      // ansible-playbook checks the key against known_hosts (where the accepted key was recorded); a login with the
      // pin first makes sure the host still presents the key it came back with.
      const check = await ctx.connector.connect(ctx.target, { ...keys, signal: ctx.signal });
      await check.close();
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
    const remote = await ctx.connector.connect(ctx.target, { ...keys, signal: ctx.signal });
    try {
      await runPostinstall(remote, host, config, { onLine: ctx.output, signal: ctx.signal });
    } catch (err) {
      await remote.close();
      throw err;
    }
    await remote.close({ keep: true }); // reboot-verify's reboot is issued on it
  },
};
