/**
 * The grub and libvirt drivers against real sshd with the host-program doubles: exactly the expected
 * invocations, a rerun replaces rather than adds, and full bare-metal and virt reinstalls pass through
 * (stage, reinstall, wait-ssh with the new key, post-install, reboot, verify); a disarm after a stage leaves the host
 * booting its old system.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema';
import { createDrivers } from '../../src/drivers';
import type { DriverContext } from '../../src/drivers/types';
import { runPostinstall, runVerify } from '../../src/ssh/postinstall-runner';
import { rebootHost } from '../../src/ssh/reboot';
import { createSshConnector } from '../../src/ssh/ssh-connector';
import type { RemoteConnector } from '../../src/ssh/types';
import { waitForSsh } from '../../src/ssh/wait-ssh';
import { testConfig } from '../fakes/test-config';
import { startSshdFleet, type SshdFleet } from './helpers/sshd';

let fleet: SshdFleet;
let connector: RemoteConnector;
let config: Config;
const drivers = createDrivers();
const logLines: string[] = [];

beforeAll(async () => {
  fleet = await startSshdFleet([
    { name: 'buildarm-01', kind: 'baremetal' },
    { name: 'bvmhost-x86-01', kind: 'virthost' },
    { name: 'buildvm-x86-01', kind: 'virt' },
    { name: 'buildvm-x86-02', kind: 'virt' },
  ]);
  fleet.writeKnownHosts();
  const addr = (n: string) => fleet.host(n).address;
  config = testConfig(
    {
      ssh: { user: 'root', key: fleet.clientKeyPath, knownHosts: fleet.knownHostsPath, hostKeyPolicy: 'accept-new-after-reinstall' },
      installer: {
        kernel: 'http://dl.example.org/f43/{arch}/vmlinuz',
        initrd: 'http://dl.example.org/f43/{arch}/initrd.img',
        kickstart: 'http://ks.example.org/{host}.ks',
        args: `ip={address}::gw inst.repo=http://dl.example.org/f43/{arch}/os/ $(touch ${fleet.dir}/pwned)`,
        tree: 'http://dl.example.org/f43/{arch}/os/',
        virtArgs: `--memory 2048 --vcpus 2 --disk size=20 --network bridge=br0 --noautoconsole --description "guest {host}; not $(touch ${fleet.dir}/pwned2)"`,
      },
      postinstall: {
        files: [{ dest: `${fleet.dir}/root/{host}/etc/kojid/kojid.conf`, content: '[kojid]\nuser = builder\n', mode: '0644' }],
        commands: ['hostnamectl set-hostname {host}', 'systemctl enable kojid'],
        verify: ['systemctl is-active kojid', 'test "$(hostnamectl)" = {host}'],
      },
      timeouts: { drain: '10s', sshReturn: '20s', step: '20s' },
    },
    [
      { name: 'buildarm-01', arch: 'aarch64', kind: 'baremetal', address: addr('buildarm-01') },
      { name: 'bvmhost-x86-01', kind: 'virthost', address: addr('bvmhost-x86-01') },
      { name: 'buildvm-x86-01', kind: 'virt', virthost: 'bvmhost-x86-01', address: addr('buildvm-x86-01') },
      { name: 'buildvm-x86-02', kind: 'virt', virthost: 'bvmhost-x86-01', address: addr('buildvm-x86-02') },
    ],
  );
  connector = createSshConnector({
    user: 'root',
    privateKey: config.ssh.key,
    knownHostsPath: config.ssh.knownHosts,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 20_000,
    log: pino({ level: 'debug' }, { write: (s: string) => logLines.push(s) }),
  });
});
afterAll(async () => fleet?.stop());

function ctxFor(name: string, extra: Partial<DriverContext> = {}): DriverContext & { lines: string[]; progressed: string[] } {
  const lines: string[] = [];
  const progressed: string[] = [];
  return {
    host: config.hosts.find((h) => h.name === name)!,
    config,
    connector,
    signal: new AbortController().signal,
    timeoutMs: 20_000,
    progress: (m) => progressed.push(m),
    output: (l) => lines.push(l),
    lines,
    progressed,
    ...extra,
  };
}

const targetOf = (name: string) => ({ name, address: fleet.host(name).address, port: 22 });

describe('bare metal (grub)', () => {
  const K = '/boot/vmlinuz-rekick-installer';
  const I = '/boot/initrd-rekick-installer.img';
  const ARGS = (addr: string) =>
    `inst.ks=http://ks.example.org/buildarm-01.ks ip=${addr}::gw inst.repo=http://dl.example.org/f43/aarch64/os/ $(touch ${fleet.dir}/pwned)`;

  it('stage: downloads, adds the one-time entry, exactly these invocations; values stay literal', async () => {
    fleet.clearCalls();
    await drivers.baremetal.stage(ctxFor('buildarm-01'));
    const h = 'buildarm-01';
    expect(fleet.calls(h)).toEqual([
      [h, 'curl', '-fsSL', '-o', K, 'http://dl.example.org/f43/aarch64/vmlinuz'],
      [h, 'curl', '-fsSL', '-o', I, 'http://dl.example.org/f43/aarch64/initrd.img'],
      [h, 'grubby', `--info=${K}`],
      [h, 'grubby', `--add-kernel=${K}`, `--initrd=${I}`, '--title=rekick-installer', `--args=${ARGS(fleet.host(h).address)}`],
      [h, 'grub2-reboot', 'rekick-installer'],
    ]);
    expect(existsSync(`${fleet.dir}/pwned`)).toBe(false);
    expect(readFileSync(fleet.host(h).simRoot(K), 'utf8')).toContain('vmlinuz');
    expect(fleet.host(h).state('next-boot')).toBe('rekick-installer\n');
  });

  it('stage again: replaces the stale entry instead of adding a second', async () => {
    fleet.clearCalls();
    await drivers.baremetal.stage(ctxFor('buildarm-01'));
    expect(fleet.calls('buildarm-01').map((c) => c.slice(1, 3))).toEqual([
      ['curl', '-fsSL'],
      ['curl', '-fsSL'],
      ['grubby', `--info=${K}`],
      ['grubby', `--remove-kernel=${K}`],
      ['grubby', `--add-kernel=${K}`],
      ['grub2-reboot', 'rekick-installer'],
    ]);
    expect(fleet.host('buildarm-01').state('grub-entries')!.trim().split('\n')).toHaveLength(1);
  });

  it('a failed download fails the stage with curl’s output and adds no entry', async () => {
    const broken = { ...config, installer: { ...config.installer, initrd: 'http://dl.example.org/missing/initrd.img' } };
    fleet.clearCalls();
    const err = await drivers.baremetal.stage(ctxFor('buildarm-01', { config: broken })).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_REMOTE_COMMAND');
    expect((err as { outputTail: string[] }).outputTail.join('\n')).toContain('404');
    expect(fleet.calls('buildarm-01').map((c) => c[1])).toEqual(['curl', 'curl']);
  });

  it('full reinstall: reboot until SSH is gone, back with a new key (accepted), post-install, reboot, verify', async () => {
    const h = 'buildarm-01';
    const old = fleet.host(h).fingerprint();
    fleet.clearCalls();
    const ctx = ctxFor(h);
    await drivers.baremetal.reinstall(ctx);
    expect(fleet.calls(h)).toEqual([[h, 'systemctl', 'reboot']]);
    expect(ctx.progressed.some((p) => p.includes('SSH has gone away'))).toBe(true);

    const changes: Array<{ previous?: string; fingerprint: string }> = [];
    await waitForSsh(connector, targetOf(h), { hostKeyMode: 'accept-changed', timeoutMs: 20_000, onKeyChanged: (c) => changes.push(c) });
    expect(changes).toEqual([{ previous: old, fingerprint: fleet.host(h).fingerprint() }]);
    expect(fleet.host(h).state('next-boot')).toBeUndefined(); // the one-time entry was used

    const remote = await connector.connect(targetOf(h), { hostKeyMode: 'accept-changed' });
    await runPostinstall(remote, ctx.host, config, { onLine: ctx.output });
    await remote.close();
    expect(readFileSync(`${fleet.dir}/root/${h}/etc/kojid/kojid.conf`, 'utf8')).toBe('[kojid]\nuser = builder\n');

    await rebootHost(connector, targetOf(h), { timeoutMs: 20_000 });
    await waitForSsh(connector, targetOf(h), { hostKeyMode: 'strict', timeoutMs: 20_000 });
    const again = await connector.connect(targetOf(h), { hostKeyMode: 'strict' });
    await runVerify(again, ctx.host, config, { onLine: ctx.output });
    await again.close();
    expect(fleet.calls(h).map((c) => c.slice(1).join(' '))).toEqual([
      'systemctl reboot',
      `hostnamectl set-hostname ${h}`,
      'systemctl enable kojid',
      'systemctl reboot',
      'systemctl is-active kojid',
      'hostnamectl',
    ]);
  });
  it('disarm after stage: next_entry unset, the entry and the downloads removed; an ordinary reboot then boots the old system', async () => {
    const h = 'buildarm-01';
    await drivers.baremetal.stage(ctxFor(h));
    expect(fleet.host(h).state('next-boot')).toBe('rekick-installer\n');
    const old = fleet.host(h).fingerprint();
    fleet.clearCalls();
    const result = await drivers.baremetal.disarm!(ctxFor(h));
    expect(result.armed).toBe(true);
    expect(fleet.calls(h)).toEqual([
      [h, 'grub2-editenv', '-', 'list'],
      [h, 'grub2-editenv', '-', 'unset', 'next_entry'],
      [h, 'grubby', `--info=${K}`],
      [h, 'grubby', `--remove-kernel=${K}`],
      [h, 'rm', '-f', K, I],
    ]);
    expect(fleet.host(h).state('next-boot')).toBeUndefined();
    expect(fleet.host(h).state('grub-entries')!.trim()).toBe('');
    expect(existsSync(fleet.host(h).simRoot(K)) || existsSync(fleet.host(h).simRoot(I))).toBe(false);
    // again: nothing armed, nothing removed, no error
    expect(await drivers.baremetal.disarm!(ctxFor(h))).toMatchObject({ armed: false });

    await rebootHost(connector, targetOf(h), { timeoutMs: 20_000 });
    await waitForSsh(connector, targetOf(h), { hostKeyMode: 'strict', timeoutMs: 20_000 });
    await fleet.settled();
    expect(fleet.host(h).fingerprint()).toBe(old); // the old system, not an install
  });
});

describe('virt (libvirt on the virthost)', () => {
  const G = 'buildvm-x86-01';
  const VH = 'bvmhost-x86-01';

  it('stage: destroys and undefines only this guest, on its virthost; a rerun is harmless', async () => {
    const otherKey = fleet.host('buildvm-x86-02').fingerprint();
    fleet.clearCalls();
    await drivers.virt.stage(ctxFor(G));
    await fleet.settled();
    expect(fleet.calls()).toEqual([
      [VH, 'virsh', 'destroy', G],
      [VH, 'virsh', 'undefine', G, '--nvram'],
    ]);
    expect(fleet.guestState(G)).toEqual({ defined: false, running: false });
    expect(fleet.host(G).running).toBe(false);
    // rerun: not running, not defined: no error
    await drivers.virt.stage(ctxFor(G));
    expect(fleet.guestState('buildvm-x86-02')).toEqual({ defined: true, running: true });
    expect(fleet.host('buildvm-x86-02').running).toBe(true);
    expect(fleet.host('buildvm-x86-02').fingerprint()).toBe(otherKey);
  });

  it('reinstall: one virt-install with every value quoted; the guest comes back with a new key', async () => {
    fleet.clearCalls();
    const old = fleet.host(G).fingerprint();
    await drivers.virt.reinstall(ctxFor(G));
    const addr = fleet.host(G).address;
    expect(fleet.calls()).toEqual([
      [
        VH,
        'virt-install',
        '--name',
        G,
        '--location',
        'http://dl.example.org/f43/x86_64/os/',
        '--extra-args',
        `inst.ks=http://ks.example.org/${G}.ks ip=${addr}::gw inst.repo=http://dl.example.org/f43/x86_64/os/ $(touch ${fleet.dir}/pwned)`,
        '--memory',
        '2048',
        '--vcpus',
        '2',
        '--disk',
        'size=20',
        '--network',
        'bridge=br0',
        '--noautoconsole',
        '--description',
        `guest ${G}; not $(touch ${fleet.dir}/pwned2)`,
      ],
    ]);
    expect(existsSync(`${fleet.dir}/pwned`) || existsSync(`${fleet.dir}/pwned2`)).toBe(false);
    const changes: Array<{ previous?: string; fingerprint: string }> = [];
    await waitForSsh(connector, targetOf(G), { hostKeyMode: 'accept-changed', timeoutMs: 20_000, onKeyChanged: (c) => changes.push(c) });
    expect(changes).toEqual([{ previous: old, fingerprint: fleet.host(G).fingerprint() }]);
    const remote = await connector.connect(targetOf(G), { hostKeyMode: 'strict' });
    await runPostinstall(remote, config.hosts.find((h) => h.name === G)!, config);
    await remote.close();
    expect(fleet.host(G).state('hostname')).toBe(`${G}\n`);
  });

  it('refuses when the virthost is itself in a job', async () => {
    fleet.clearCalls();
    const err = await drivers.virt.stage(ctxFor(G, { hostInJob: (n) => n === VH })).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_VIRTHOST_BUSY');
    expect(fleet.calls()).toEqual([]);
  });

  it('no private key material in any log line', () => {
    const key = readFileSync(fleet.clientKeyPath, 'utf8');
    const all = logLines.join('');
    for (const line of key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(all).not.toContain(line);
    expect(all).not.toContain('PRIVATE KEY');
    expect(path.isAbsolute(fleet.dir)).toBe(true);
  });
});
