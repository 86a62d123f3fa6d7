/** The plan `rekick reinstall --dry-run` prints: what each step would do for each host. It touches nothing. */
import type { Config, HostConfig } from '../config/schema';
import { UserError } from '../errors';
import { STEP_NAMES } from '../model';
import { admitReinstall, guestsOf } from './virthost-guests';
import { postinstallConfig } from '../steps/postinstall-config';

export function substitute(text: string, host: HostConfig): string {
  return text.replaceAll('{host}', host.name).replaceAll('{arch}', host.arch).replaceAll('{address}', host.address ?? host.name);
}

export function resolvePlanHosts(config: Config, names: string[]): HostConfig[] {
  const out: HostConfig[] = [];
  for (const n of names) {
    const hosts = n.startsWith('group:') ? config.hosts.filter((h) => h.groups.includes(n.slice(6))) : config.hosts.filter((h) => h.name === n);
    if (!hosts.length) throw new UserError(n.startsWith('group:') ? `unknown group: ${n.slice(6)}` : `unknown host: ${n}`);
    for (const h of hosts) if (!out.includes(h)) out.push(h);
  }
  return out;
}

export function planReinstall(config: Config, names: string[], options: { forceDrain?: boolean } = {}): string[] {
  const lines: string[] = ['dry run: nothing will be changed'];
  // As reinstall() queues them: a virthost followed by its guests, each guest once (no host is busy in a plan).
  const admitted = admitReinstall(resolvePlanHosts(config, names), config, () => undefined, () => '');
  for (const { host, virthost: withVirthost } of admitted) {
    const i = config.installer;
    const guests = host.kind === 'virthost' ? guestsOf(config.hosts, host.name).map((g) => g.name) : [];
    // Steps 6 and 7 as they run for this host (a virthost takes virthostPostinstall).
    const post = postinstallConfig(config, host).postinstall;
    const before = guests.length
      ? `once its guest${guests.length === 1 ? ` ${guests[0]} is` : `s ${guests.join(', ')} are`} disabled and drained (each its own job, at once): `
      : withVirthost
        ? `once virthost ${host.virthost}'s job has succeeded: `
        : '';
    const where = `${config.ssh.user}@${host.address ?? host.name}${host.port !== 22 ? `:${host.port}` : ''}`;
    const koji = host.kind !== 'virthost';
    const detail: Record<(typeof STEP_NAMES)[number], string> = {
      disable: koji ? `Koji disableHost ${host.name} + editHost comment` : 'skipped (a virthost is no Koji builder)',
      drain: koji
        ? `wait up to ${config.timeouts.drain / 1000}s for OPEN/ASSIGNED tasks on ${host.name}${options.forceDrain ? ' (--force-drain: freeTask each)' : ''}`
        : 'skipped',
      'stage-installer':
        before +
        (host.kind === 'virt'
          ? `on ${host.virthost}: virsh destroy ${host.name}; virsh undefine ${host.name} --nvram`
          : `on ${where}: record the host key and /etc/machine-id; fetch ${substitute(i.kernel, host)} and ${substitute(i.initrd, host)} into /boot; grubby --add-kernel; grub2-reboot (one time)`),
      reinstall:
        host.kind === 'virt'
          ? `on ${host.virthost}: virt-install --name ${host.name} --location ${substitute(i.tree ?? '', host)} --extra-args "inst.ks=${substitute(i.kickstart, host)} ${substitute(i.args, host)}" ${i.virtArgs}`
          : `on ${where}: systemctl reboot into the installer (inst.ks=${substitute(i.kickstart, host)})`,
      'wait-ssh': `wait up to ${config.timeouts.sshReturn / 1000}s for SSH on ${where} (host key policy ${config.ssh.hostKeyPolicy}); require a new host key or /etc/machine-id`,
      'post-install': post.playbook
        ? `ansible-playbook ${post.playbook.path} --limit ${host.name}`
        : `write ${post.files.map((f) => substitute(f.dest, host)).join(', ') || 'no files'}; run ${post.commands.map((c) => `"${substitute(c, host)}"`).join(', ') || 'no commands'}`,
      'reboot-verify': `systemctl reboot; wait for SSH; verify ${post.verify.map((c) => `"${substitute(c, host)}"`).join(', ') || '(nothing)'}`,
      enable: koji ? `after !approve ${host.name}: Koji enableHost ${host.name}` : 'skipped',
    };
    lines.push(`${host.name} (${host.kind}, ${host.arch}):`);
    STEP_NAMES.forEach((s, n) => lines.push(`  [${n + 1}/8] ${s}: ${detail[s]}`));
  }
  return lines;
}
