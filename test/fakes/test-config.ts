/** Builds a valid Config for unit tests, through the real schema. */
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';

export function testConfig(overrides: Record<string, unknown> = {}, hosts?: unknown[]): Config {
  const raw = {
    store: ':memory:',
    koji: { server: 'https://127.0.0.1:1/kojihub', cert: '/nonexistent.pem', pollInterval: '20ms' },
    ssh: { user: 'root', key: '/nonexistent', knownHosts: '/tmp/known_hosts-unused' },
    roles: { operator: ['irc:kevin', 'console:operator'], approver: ['irc:nirik', 'console:operator'] },
    installer: { kernel: 'http://dl/{arch}/vmlinuz', initrd: 'http://dl/{arch}/initrd.img', kickstart: 'http://ks/{host}.ks', args: 'ip=dhcp', tree: 'http://dl/{arch}/os/' },
    postinstall: { files: [], commands: ['hostnamectl set-hostname {host}'], verify: ['systemctl is-active kojid'] },
    timeouts: { drain: '2s', sshReturn: '2s', step: '2s' },
    retry: { attempts: 3, backoff: '10ms', maxBackoff: '50ms' },
    hosts: hosts ?? [
      { name: 'buildarm-01', arch: 'aarch64', kind: 'baremetal', groups: ['arm'] },
      { name: 'buildarm-02', arch: 'aarch64', kind: 'baremetal', groups: ['arm'] },
      { name: 'buildarm-03', arch: 'aarch64', kind: 'baremetal', groups: ['arm'] },
      { name: 'buildvm-01', arch: 'x86_64', kind: 'virt', virthost: 'vmhost-01', groups: ['vm'] },
      { name: 'vmhost-01', kind: 'virthost' },
    ],
    ...overrides,
  };
  return parseConfig(stringify(raw), { baseDir: '/tmp', checkFiles: false });
}
