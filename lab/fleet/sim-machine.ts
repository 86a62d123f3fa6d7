/**
 * What a simulated host is made of besides its SSH server: filesystem, hostname, systemd units and the grub
 * boot entries. Two starting points: a builder in service (configured, kojid running) and a fresh install
 * (nothing of rekick's configuration, kojid installed but disabled).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { BOOT_ID_PATH } from '../../src';
import { SimFs } from './sim-fs';

export type SimRole = 'builder' | 'virthost';

export interface GrubEntry {
  kernel: string;
  initrd?: string;
  title: string;
  args: string;
}

export const KOJID_CONF = '/etc/kojid/kojid.conf';
export const KERNEL_VERSION = '6.17.1-300.fc43';
export const FRESH_HOSTNAME = 'localhost.localdomain';

/** A systemd unit the host has, and what it needs to start. */
interface UnitDef {
  /** A file that must exist for the unit to start (kojid needs its config). */
  needsFile?: string;
}

export class SimMachine {
  readonly fs = new SimFs();
  hostname: string;
  readonly units = new Map<string, UnitDef>();
  readonly enabled = new Set<string>();
  readonly active = new Set<string>();
  grubEntries: GrubEntry[] = [];
  /** Set by grub2-reboot (unset by `grub2-editenv - unset next_entry`): the entry (title or index) booted once at the next reboot. */
  nextEntry: string | undefined;
  readonly defaultKernel: string;

  private constructor(
    readonly role: SimRole,
    readonly arch: string,
    hostname: string,
  ) {
    this.hostname = hostname;
    this.defaultKernel = `/boot/vmlinuz-${KERNEL_VERSION}.${arch}`;
  }

  /** The state right after a kickstart install: base system only. */
  static fresh(role: SimRole, arch: string): SimMachine {
    const m = new SimMachine(role, arch, FRESH_HOSTNAME);
    const fs = m.fs;
    for (const d of ['/boot', '/boot/loader', '/boot/loader/entries', '/dev', '/etc', '/etc/ssh', '/etc/systemd', '/etc/systemd/system', '/home', '/opt', '/root', '/run', '/srv', '/tmp', '/usr', '/usr/bin', '/usr/sbin', '/var', '/var/lib', '/var/log', '/var/tmp']) {
      fs.mkdir(d);
    }
    fs.chmod('/root', 0o550);
    fs.chmod('/tmp', 0o1777);
    fs.chmod('/var/tmp', 0o1777);
    fs.write('/dev/null', '', { mode: 0o666 });
    fs.write('/etc/hostname', `${FRESH_HOSTNAME}\n`);
    fs.write('/etc/machine-id', `${randomBytes(16).toString('hex')}\n`);
    fs.write('/etc/os-release', 'NAME="Fedora Linux"\nVERSION_ID=43\nID=fedora\nPRETTY_NAME="Fedora Linux 43 (Server Edition)"\n');
    fs.write(m.defaultKernel, `simulated kernel ${KERNEL_VERSION}.${arch}\n`, { mode: 0o755 });
    fs.write(`/boot/initramfs-${KERNEL_VERSION}.${arch}.img`, 'simulated initramfs\n', { mode: 0o600 });
    m.grubEntries = [
      {
        kernel: m.defaultKernel,
        initrd: `/boot/initramfs-${KERNEL_VERSION}.${arch}.img`,
        title: `Fedora Linux (${KERNEL_VERSION}.${arch}) 43 (Server Edition)`,
        args: 'ro rootflags=subvol=root rhgb quiet',
      },
    ];
    m.units.set('sshd', {});
    m.units.set('chronyd', {});
    m.enabled.add('sshd');
    m.enabled.add('chronyd');
    if (role === 'builder') {
      m.units.set('kojid', { needsFile: KOJID_CONF });
      fs.mkdir('/etc/kojid');
    } else {
      m.units.set('libvirtd', {});
      m.enabled.add('libvirtd');
    }
    m.boot();
    return m;
  }

  /** A host in service before rekick ever touched it: named, and (a builder) running kojid with its config. */
  static configured(role: SimRole, arch: string, name: string): SimMachine {
    const m = SimMachine.fresh(role, arch);
    m.hostname = name;
    m.fs.write('/etc/hostname', `${name}\n`);
    if (role === 'builder') {
      m.fs.write(KOJID_CONF, `[kojid]\n; configured by hand, long ago\nuser = ${name}\n`);
      m.enabled.add('kojid');
    }
    m.boot();
    return m;
  }

  /** Why a unit cannot start now, or undefined when it can. */
  cannotStart(unit: string): string | undefined {
    const def = this.units.get(unit);
    if (!def) return `Unit ${unit}.service not found.`;
    if (def.needsFile && !this.fs.isFile(def.needsFile)) return `${def.needsFile} is missing`;
    return undefined;
  }

  /** After a (normal) boot: exactly the enabled units that can start are active. */
  boot(): void {
    // Every boot has a new boot id, as the kernel's (rekick tells a reboot by it).
    this.fs.mkdir(path.posix.dirname(BOOT_ID_PATH), { parents: true });
    this.fs.write(BOOT_ID_PATH, `${randomUUID()}\n`, { mode: 0o444 });
    this.active.clear();
    for (const u of this.enabled) if (!this.cannotStart(u)) this.active.add(u);
  }

  /** The grub entry `ref` names: a title, a numeric index, or a kernel path. */
  findEntry(ref: string): GrubEntry | undefined {
    if (/^\d+$/.test(ref)) return this.grubEntries[Number(ref)];
    return this.grubEntries.find((e) => e.title === ref || e.kernel === ref);
  }
}
