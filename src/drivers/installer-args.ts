/** The installer's values for one host: URLs with placeholders replaced, and the kernel arguments. */
import type { Config, HostConfig } from '../config/schema';
import { hostValues, substitute } from '../ssh/placeholders';

export interface InstallerValues {
  kernel: string;
  initrd: string;
  kickstart: string;
  /** `inst.ks=KICKSTART` followed by `installer.args`. */
  args: string;
}

export function installerValues(config: Config, host: HostConfig): InstallerValues {
  const v = hostValues(host);
  const kickstart = substitute(config.installer.kickstart, v);
  const more = substitute(config.installer.args, v).trim();
  return {
    kernel: substitute(config.installer.kernel, v),
    initrd: substitute(config.installer.initrd, v),
    kickstart,
    args: more ? `inst.ks=${kickstart} ${more}` : `inst.ks=${kickstart}`,
  };
}
