/** What the steps share to say what they would do (Step.describe, the dry-run plan) and which hosts they apply to. */
import type { Config, HostConfig } from '../config/schema';

/** `{host}`, `{arch}`, `{address}` in a config value, as the plan shows it. */
export function substitute(text: string, host: HostConfig): string {
  return text.replaceAll('{host}', host.name).replaceAll('{arch}', host.arch).replaceAll('{address}', host.address ?? host.name);
}

/** Where rekick logs in to the host: `user@address[:port]`. */
export function sshWhere(config: Config, host: HostConfig): string {
  return `${config.ssh.user}@${host.address ?? host.name}${host.port !== 22 ? `:${host.port}` : ''}`;
}

/** Whether the host is a Koji builder (a virthost is not: its Koji steps are skipped). */
export function isKojiBuilder(host: HostConfig): boolean {
  return host.kind !== 'virthost';
}
