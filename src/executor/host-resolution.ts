/** Host words of an order (`NAME`, `group:NAME`) to configured hosts, each once; an unknown one is refused. */
import type { Config, HostConfig } from '../config/schema';
import { UserError } from '../errors';

export function resolveHosts(config: Config, hostsByName: ReadonlyMap<string, HostConfig>, names: string[]): HostConfig[] {
  const out: HostConfig[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    let hosts: HostConfig[];
    if (name.startsWith('group:')) {
      const group = name.slice('group:'.length);
      hosts = config.hosts.filter((h) => h.groups.includes(group));
      if (!hosts.length) throw new UserError(`unknown group: ${group}`, 'E_UNKNOWN_GROUP');
    } else {
      const h = hostsByName.get(name);
      if (!h) throw new UserError(`unknown host: ${name}`, 'E_UNKNOWN_HOST');
      hosts = [h];
    }
    for (const h of hosts) {
      if (!seen.has(h.name)) out.push(h);
      seen.add(h.name);
    }
  }
  return out;
}
