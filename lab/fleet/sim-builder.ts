/**
 * A simulated builder: bare metal (reinstalled through a one-time grub entry and `systemctl reboot`) or a virt
 * guest (powered, destroyed and reinstalled by its SimVirthost). Either way an SSH server with a kojid to run.
 */
import { SimHost, type SimHostOptions } from './sim-host';

export type SimBuilderOptions = Omit<SimHostOptions, 'role'> & { kind?: 'baremetal' | 'virt' };

export class SimBuilder extends SimHost {
  readonly kind: 'baremetal' | 'virt';

  constructor(options: SimBuilderOptions) {
    super({ ...options, role: 'builder' });
    this.kind = options.kind ?? 'baremetal';
  }
}
