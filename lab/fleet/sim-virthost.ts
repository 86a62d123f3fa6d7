/**
 * A simulated virthost: an SSH server whose virsh and virt-install act on its guests (SimBuilders). `virsh destroy`
 * cuts a guest's power, `virsh undefine --nvram` forgets it, `virt-install --name NAME` defines it again and starts
 * a fresh install; only the named guest is touched. The virthost takes its guests with it: when it goes down they
 * lose power (no autostart here), and a fresh install of the virthost knows none of them (a new libvirt).
 */
import type { DomainState, SimLibvirt } from './sim-host-api';
import { SimHost, type SimHostOptions } from './sim-host';
import type { SimBuilder } from './sim-builder';

interface Domain {
  guest?: SimBuilder;
  defined: boolean;
  /** Only for a domain without a simulated guest. */
  running: boolean;
}

export class SimVirthost extends SimHost implements SimLibvirt {
  private readonly domainsByName = new Map<string, Domain>();
  /** virt-install calls seen, with their arguments (tests check what rekick passed). */
  readonly virtInstalls: { name: string; location?: string; extraArgs?: string; args: string[] }[] = [];

  constructor(options: Omit<SimHostOptions, 'role'>) {
    super({ ...options, role: 'virthost' });
    this.libvirt = this;
    this.on('down', () => this.guestsLosePower());
    this.on('installed', () => this.forgetDomains());
  }

  /** The virthost went down (reboot, power cut): every guest on it is off. */
  private guestsLosePower(): void {
    for (const d of this.domainsByName.values()) {
      if (d.guest && d.guest.state !== 'off') d.guest.powerOff();
      d.running = false;
    }
  }

  /** A fresh install of the virthost: libvirt has no domains (the guests' disks went with the old system). */
  private forgetDomains(): void {
    for (const d of this.domainsByName.values()) {
      d.defined = false;
      d.running = false;
    }
  }

  /** Adds a guest, defined and running like a guest in service. */
  addGuest(guest: SimBuilder): void {
    this.domainsByName.set(guest.name, { guest, defined: true, running: true });
  }

  guest(name: string): SimBuilder | undefined {
    return this.domainsByName.get(name)?.guest;
  }

  domains(): { name: string; state: DomainState }[] {
    return [...this.domainsByName.entries()]
      .filter(([, d]) => d.defined)
      .map(([name, d]) => ({ name, state: isRunning(d) ? 'running' : 'shut off' }));
  }

  destroy(name: string): 'destroyed' | 'not-running' | 'unknown' {
    const d = this.domainsByName.get(name);
    if (!d || (!d.defined && !isRunning(d))) return 'unknown';
    if (!isRunning(d)) return 'not-running';
    if (d.guest) d.guest.powerOff();
    d.running = false;
    return 'destroyed';
  }

  undefine(name: string): boolean {
    const d = this.domainsByName.get(name);
    if (!d?.defined) return false;
    d.defined = false;
    return true;
  }

  install(name: string, details: { location?: string; extraArgs?: string; args: string[] }): 'started' | 'exists' {
    const d = this.domainsByName.get(name) ?? { defined: false, running: false };
    if (d.defined) return 'exists';
    this.virtInstalls.push({ name, ...details });
    d.defined = true;
    d.running = true;
    this.domainsByName.set(name, d);
    d.guest?.startInstall();
    return 'started';
  }
}

function isRunning(d: Domain): boolean {
  return d.guest ? d.guest.state !== 'off' : d.running;
}
