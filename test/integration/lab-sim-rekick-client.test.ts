/**
 * The sims speak what rekick's own SSH client and drivers send: atomic writeFile through `cat >` in a subshell
 * with umask, readFile, a timed-out command killed through `$$`, the bare-metal driver's staging and reboot into
 * the installer, and the virt driver's virsh/virt-install on the virthost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configSchema, type Config, type HostConfig } from '../../src/config/schema';
import { createBaremetalGrubDriver } from '../../src/drivers/baremetal-grub';
import { createVirtLibvirtDriver } from '../../src/drivers/virt-libvirt';
import type { DriverContext } from '../../src/drivers/types';
import { createSshConnector } from '../../src/ssh/ssh-connector';
import type { RemoteConnector } from '../../src/ssh/types';
import { createSimFleet, type SimFleet } from '../../lab/fleet/sim-fleet';
import { generateEd25519KeyPair } from '../../lab/fleet/ssh-keys';

const key = generateEd25519KeyPair('rekick-test');
const dir = mkdtempSync(path.join(tmpdir(), 'rekick-sim-client-'));
let fleet: SimFleet;
let connector: RemoteConnector;
let config: Config;

const hosts = [
  { name: 'buildarm-01', kind: 'baremetal' as const, arch: 'aarch64' },
  { name: 'bvmhost-01', kind: 'virthost' as const, arch: 'x86_64' },
  { name: 'buildvm-01', kind: 'virt' as const, arch: 'x86_64', virthost: 'bvmhost-01' },
  { name: 'buildvm-02', kind: 'virt' as const, arch: 'x86_64', virthost: 'bvmhost-01' },
];

beforeAll(async () => {
  fleet = await createSimFleet({ hosts, clientPublicKey: key.public, rebootDelayMs: 50, installDelayMs: 100 });
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, fleet.knownHostsLines().join('\n') + '\n');
  connector = createSshConnector({
    user: 'root',
    privateKey: key.private,
    knownHostsPath: knownHosts,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 20_000,
    tcpProbeTimeoutMs: 300,
    log: pino({ level: 'silent' }),
  });
  config = configSchema.parse({
    koji: { server: 'https://koji.lab/kojihub' },
    ssh: { key: path.join(dir, 'id'), knownHosts },
    installer: {
      kernel: 'http://dl.lab/{arch}/vmlinuz',
      initrd: 'http://dl.lab/{arch}/initrd.img',
      kickstart: 'http://ks.lab/{host}.ks',
      args: 'ip=dhcp',
      tree: 'http://dl.lab/{arch}/os/',
      virtArgs: '--memory 8192 --noautoconsole',
    },
    hosts: hosts.map((h) => ({ ...h, ...fleet.addressOf(h.name) })),
  });
});

afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const hostConfig = (name: string): HostConfig => config.hosts.find((h) => h.name === name)!;
const target = (name: string) => ({ name, ...fleet.addressOf(name) });

function driverContext(name: string, output: string[]): DriverContext {
  return {
    host: hostConfig(name),
    config,
    connector,
    signal: new AbortController().signal,
    timeoutMs: 10_000,
    progress: () => undefined,
    output: (line) => output.push(line),
  };
}

describe("rekick's SSH client against a sim", () => {
  it('writes a file atomically with its mode (missing directories created), and reads it back', async () => {
    const remote = await connector.connect(target('buildarm-01'), { hostKeyMode: 'strict' });
    try {
      await remote.writeFile('/etc/pki/koji/buildarm-01.pem', 'CERT AND KEY\n', { mode: 0o600, owner: 'root:root', secret: true });
      const node = fleet.builders.get('buildarm-01')!.machine.fs.get('/etc/pki/koji/buildarm-01.pem')!;
      expect(node.content.toString()).toBe('CERT AND KEY\n');
      expect(node.mode).toBe(0o600);
      expect(fleet.builders.get('buildarm-01')!.machine.fs.list('/etc/pki/koji')).toEqual(['buildarm-01.pem']); // no temp file left
      expect((await remote.readFile('/etc/pki/koji/buildarm-01.pem')).toString()).toBe('CERT AND KEY\n');
    } finally {
      await remote.close();
    }
  });

  it('a command that outlives its timeout is killed by its pid, and the connection stays usable', async () => {
    const host = fleet.builders.get('buildarm-01')!;
    const clear = host.inject({ kind: 'hang', match: 'systemctl is-active' });
    const remote = await connector.connect(target('buildarm-01'), { hostKeyMode: 'strict' });
    try {
      await expect(remote.exec('systemctl is-active kojid', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'E_REMOTE_TIMEOUT' });
      clear();
      // The client kills the command's process group over a second channel.
      await vi.waitFor(() => expect(host.records.find((r) => /^kill -KILL -- -\d+/.test(r.command))?.code).toBe(0), { timeout: 3000 });
      const hung = host.records.find((r) => r.kind === 'exec' && r.command.endsWith('systemctl is-active kojid'))!;
      await vi.waitFor(() => expect(hung.code).toBeNull());
      expect((await remote.exec('systemctl is-active kojid')).stdout).toBe('active\n');
    } finally {
      await remote.close();
    }
  });
});

describe("rekick's drivers against the sims", () => {
  it('bare metal: staging then reinstall boots the installer (new host key, fresh machine)', async () => {
    const host = fleet.builders.get('buildarm-01')!;
    const oldKey = host.hostKey.fingerprint;
    const driver = createBaremetalGrubDriver();
    const output: string[] = [];
    await driver.stage(driverContext('buildarm-01', output));
    await driver.stage(driverContext('buildarm-01', output)); // a rerun replaces the entry
    const entries = host.machine.grubEntries.filter((e) => e.args.includes('inst.ks='));
    expect(entries).toHaveLength(1);
    expect(entries[0]!.args).toBe('inst.ks=http://ks.lab/buildarm-01.ks ip=dhcp');
    expect(host.machine.nextEntry).toBe(entries[0]!.title);

    const installed = host.waitForBoot({ install: true });
    await driver.reinstall(driverContext('buildarm-01', output));
    await installed;
    expect(host.hostKey.fingerprint).not.toBe(oldKey);
    expect(host.machine.fs.exists('/etc/kojid/kojid.conf')).toBe(false);
  });

  it('virt: staging and reinstall on the virthost reinstall only that guest, and a rerun of staging is fine', async () => {
    const vh = fleet.virthosts.get('bvmhost-01')!;
    const g1 = fleet.builders.get('buildvm-01')!;
    const g2 = fleet.builders.get('buildvm-02')!;
    const g1Key = g1.hostKey.fingerprint;
    const driver = createVirtLibvirtDriver();
    const output: string[] = [];
    await driver.stage(driverContext('buildvm-01', output));
    expect(g1.state).toBe('off');
    await driver.stage(driverContext('buildvm-01', output)); // destroyed and undefined already: still fine
    const installed = g1.waitForBoot({ install: true });
    await driver.reinstall(driverContext('buildvm-01', output));
    expect(vh.virtInstalls.at(-1)).toMatchObject({ name: 'buildvm-01', location: 'http://dl.lab/x86_64/os/', extraArgs: 'inst.ks=http://ks.lab/buildvm-01.ks ip=dhcp' });
    await installed;
    expect(g1.hostKey.fingerprint).not.toBe(g1Key);
    expect(g2.state).toBe('up');
    expect(g2.boots).toBe(0);
  });
});
