/** What the simulated programs may ask of the host they run on (the SSH side lives in sim-host.ts). */
import type { SimMachine } from './sim-machine';

export type DomainState = 'running' | 'shut off';

/** A virthost's libvirt: its guests, by name. */
export interface SimLibvirt {
  domains(): { name: string; state: DomainState }[];
  /** Stops the guest at once (virsh destroy). */
  destroy(name: string): 'destroyed' | 'not-running' | 'unknown';
  /** Forgets the guest (virsh undefine --nvram); it must be defined. */
  undefine(name: string): boolean;
  /** Defines the guest again and starts its install (virt-install); refused while it is defined. */
  install(name: string, details: { location?: string; extraArgs?: string; args: string[] }): 'started' | 'exists';
}

export interface SimHostApi {
  readonly name: string;
  readonly machine: SimMachine;
  /** `systemctl reboot`: the command is acknowledged, then every connection drops and the host goes down. */
  requestReboot(): void;
  /** curl's failure for this URL (exit code and message), when the sim was told to fail it. */
  curlFailure(url: string): { code: number; message: string } | undefined;
  /** Present on a virthost. */
  readonly libvirt?: SimLibvirt;
}
