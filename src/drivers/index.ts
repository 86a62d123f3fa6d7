/** The built-in host drivers, by host kind. */
import { createBaremetalGrubDriver } from './baremetal-grub';
import type { HostDriver } from './types';
import { createVirtLibvirtDriver } from './virt-libvirt';

export function createDrivers(): Record<'baremetal' | 'virt', HostDriver> {
  return { baremetal: createBaremetalGrubDriver(), virt: createVirtLibvirtDriver() };
}
