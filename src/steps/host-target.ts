import type { HostConfig } from '../config/schema';
import type { HostTarget } from '../ssh/types';

/** Where rekick reaches a host over SSH: its address when configured, else its name. */
export function hostTarget(host: HostConfig): HostTarget {
  return { name: host.name, address: host.address ?? host.name, port: host.port };
}
