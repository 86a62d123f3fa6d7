/** The configured hosts as the resolver reads them: the list, a lookup by exact name, the group names. */
import type { HostConfig } from '../config/schema';

export interface HostIndex {
  /** Every configured host, in config order. */
  readonly hosts: readonly HostConfig[];
  /** The host of exactly this name, if any. */
  host(name: string): HostConfig | undefined;
}

/** An index over a host list (a map by name, built once). */
export function indexHosts(hosts: readonly HostConfig[]): HostIndex {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return { hosts, host: (name) => byName.get(name) };
}

/** The index of something that holds the config and looks hosts up (the executor as commands see it). */
export function hostIndexOf(source: { config: { hosts: readonly HostConfig[] }; host(name: string): HostConfig | undefined }): HostIndex {
  return { hosts: source.config.hosts, host: (name) => source.host(name) };
}

/** Every group a host is in, sorted, each once. */
export function groupNames(index: HostIndex): string[] {
  return [...new Set(index.hosts.flatMap((h) => h.groups))].sort();
}
