import type { Config, HostConfig } from '../config/schema';

/** The config as steps 6 and 7 see it for this host: virthosts take `virthostPostinstall` instead of `postinstall`. */
export function postinstallConfig(config: Config, host: HostConfig): Config {
  return host.kind === 'virthost' ? { ...config, postinstall: config.virthostPostinstall } : config;
}
