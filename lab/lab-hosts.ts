/** The lab fleet's host list: half bare-metal aarch64 builders, half virt x86_64 guests on virthosts of 8. */
export interface LabHost {
  name: string;
  arch: string;
  kind: 'baremetal' | 'virt' | 'virthost';
  virthost?: string;
  groups: string[];
}

export function labHosts(builders: number): LabHost[] {
  const n = Math.max(1, Math.floor(builders));
  const arm = Math.ceil(n / 2);
  const vms = n - arm;
  const pad = (i: number) => String(i).padStart(n >= 100 ? 3 : 2, '0');
  const hosts: LabHost[] = [];
  for (let i = 1; i <= arm; i++) hosts.push({ name: `buildarm-${pad(i)}`, arch: 'aarch64', kind: 'baremetal', groups: ['buildhw-aarch64'] });
  const virthosts = Math.ceil(vms / 8);
  for (let v = 1; v <= virthosts; v++) hosts.push({ name: `bvmhost-x86-${pad(v)}`, arch: 'x86_64', kind: 'virthost', groups: ['bvmhost-x86'] });
  for (let i = 1; i <= vms; i++) {
    hosts.push({ name: `buildvm-x86-${pad(i)}`, arch: 'x86_64', kind: 'virt', virthost: `bvmhost-x86-${pad(Math.ceil(i / 8))}`, groups: ['buildvm-x86'] });
  }
  return hosts;
}
