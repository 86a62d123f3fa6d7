/** Driver command building and error handling, with a fake RemoteConnector that records commands. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createBaremetalGrubDriver } from '../../src/drivers/baremetal-grub';
import { installerValues } from '../../src/drivers/installer-args';
import type { DriverContext } from '../../src/drivers/types';
import { createVirtLibvirtDriver, virtInstallCommand } from '../../src/drivers/virt-libvirt';
import { shellQuote, splitWords } from '../../src/ssh/shell-quote';
import type { ExecOptions, ExecResult, HostTarget, RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { testConfig } from '../fakes/test-config';

type Reply = Partial<ExecResult>;

class RecordingConnector implements RemoteConnector {
  readonly commands: Array<[string, string]> = [];
  constructor(private readonly reply: (host: string, command: string) => Reply = () => ({})) {}
  async probe() {
    return 'down' as const;
  }
  async connect(target: HostTarget): Promise<RemoteHost> {
    return {
      target,
      exec: async (command: string, options: ExecOptions = {}) => {
        this.commands.push([target.name, command]);
        const r: ExecResult = { code: 0, stdout: '', stderr: '', tail: [], ...this.reply(target.name, command) };
        if (r.code !== 0 && !options.allowFailure) throw Object.assign(new Error('failed'), { code: 'E_REMOTE_COMMAND' });
        return r;
      },
      writeFile: async () => undefined,
      readFile: async () => Buffer.alloc(0),
      close: async () => undefined,
    };
  }
}

const config = testConfig({
  installer: {
    kernel: 'http://dl/{arch}/vmlinuz',
    initrd: 'http://dl/{arch}/initrd.img',
    kickstart: "http://ks/{host}.ks?x='1'",
    args: 'ip=dhcp',
    tree: 'http://dl/{arch}/os/',
    virtArgs: `--memory 4096 --disk 'path=/var/lib/libvirt/images/{host}.qcow2,size=50' --network bridge=br0`,
  },
});

function ctx(name: string, connector: RemoteConnector): DriverContext {
  return {
    host: config.hosts.find((h) => h.name === name)!,
    config,
    connector,
    signal: new AbortController().signal,
    timeoutMs: 5000,
    progress: () => undefined,
    output: () => undefined,
  };
}

describe('shell quoting', () => {
  it('round-trips any value through sh', () => {
    for (const v of ["it's", '$(id)', '`id`', 'a b\tc', '"q"', '\\', '', 'x;rm -rf /']) {
      expect(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(v)}`], { encoding: 'utf8' })).toBe(v);
    }
  });
  it('splits config argument strings like sh, without expanding anything', () => {
    expect(splitWords(`--a 1 --b 'x y' --c "p \\"q\\"" $(id)`)).toEqual(['--a', '1', '--b', 'x y', '--c', 'p "q"', '$(id)']);
    expect(() => splitWords("--a 'open")).toThrow(/unbalanced/);
  });
});

describe('installer values', () => {
  it('substitutes the host values and starts the kernel arguments with inst.ks', () => {
    const v = installerValues(config, config.hosts[0]!);
    expect(v.kernel).toBe('http://dl/aarch64/vmlinuz');
    expect(v.args).toBe("inst.ks=http://ks/buildarm-01.ks?x='1' ip=dhcp");
  });
  it('virt-install quotes every word, with per-host values in virtArgs', () => {
    const cmd = virtInstallCommand(config, config.hosts.find((h) => h.name === 'buildvm-01')!);
    expect(cmd).toBe(
      "virt-install --name 'buildvm-01' --location 'http://dl/x86_64/os/' --extra-args 'inst.ks=http://ks/buildvm-01.ks?x='\\''1'\\'' ip=dhcp' " +
        "'--memory' '4096' '--disk' 'path=/var/lib/libvirt/images/buildvm-01.qcow2,size=50' '--network' 'bridge=br0'",
    );
  });
  it('virt-install without installer.tree is a clear error', () => {
    const noTree = { ...config, installer: { ...config.installer, tree: undefined } };
    expect(() => virtInstallCommand(noTree, config.hosts.find((h) => h.name === 'buildvm-01')!)).toThrow(/installer.tree/);
  });
});

describe('virt driver', () => {
  it('runs on the virthost and tolerates only "not running" / "no such domain"', async () => {
    const c = new RecordingConnector((_h, cmd) =>
      cmd.startsWith('virsh destroy') ? { code: 1, stderr: "error: failed to get domain 'buildvm-01'\n" } : {},
    );
    await createVirtLibvirtDriver().stage(ctx('buildvm-01', c));
    expect(c.commands).toEqual([
      ['vmhost-01', "virsh destroy 'buildvm-01'"],
      ['vmhost-01', "virsh undefine 'buildvm-01' --nvram"],
    ]);
    const broken = new RecordingConnector(() => ({ code: 1, stderr: 'error: failed to connect to the hypervisor\n', tail: ['error: failed to connect to the hypervisor'] }));
    const err = await createVirtLibvirtDriver().stage(ctx('buildvm-01', broken)).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('E_REMOTE_COMMAND');
    expect((err as Error).message).toContain('failed to connect to the hypervisor');
  });
});

describe('bare-metal driver', () => {
  it('removes a stale entry only when grubby knows the installer kernel', async () => {
    const fresh = new RecordingConnector((_h, cmd) => (cmd.startsWith('grubby --info') ? { code: 1 } : {}));
    await createBaremetalGrubDriver().stage(ctx('buildarm-01', fresh));
    expect(fresh.commands.map(([, c]) => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'curl -fsSL',
      'curl -fsSL',
      "grubby --info='/boot/vmlinuz-rekick-installer'",
      "grubby --add-kernel='/boot/vmlinuz-rekick-installer'",
      "grub2-reboot 'rekick-installer'",
    ]);
    const stale = new RecordingConnector();
    await createBaremetalGrubDriver().stage(ctx('buildarm-01', stale));
    expect(stale.commands.map(([, c]) => c)).toContain("grubby --remove-kernel='/boot/vmlinuz-rekick-installer'");
  });
});

describe('bare-metal driver: disarm', () => {
  const K = "'/boot/vmlinuz-rekick-installer'";
  it('unsets next_entry, removes the installer entry grubby knows, deletes its kernel and initrd: armed', async () => {
    const armed = new RecordingConnector((_h, cmd) => (cmd === 'grub2-editenv - list' ? { stdout: 'saved_entry=0\nnext_entry=rekick-installer\n' } : {}));
    const result = await createBaremetalGrubDriver().disarm!(ctx('buildarm-01', armed));
    expect(armed.commands.map(([, c]) => c)).toEqual([
      'grub2-editenv - list',
      'grub2-editenv - unset next_entry',
      `grubby --info=${K}`,
      `grubby --remove-kernel=${K}`,
      `rm -f ${K} '/boot/initrd-rekick-installer.img'`,
    ]);
    expect(result).toEqual({ armed: true, detail: expect.stringContaining('next_entry rekick-installer unset, installer entry removed') });
  });

  it('idempotent: nothing armed is said so, and no entry is removed', async () => {
    const clean = new RecordingConnector((_h, cmd) => (cmd === 'grub2-editenv - list' ? { stdout: 'saved_entry=0\n' } : cmd.startsWith('grubby --info') ? { code: 1 } : {}));
    const result = await createBaremetalGrubDriver().disarm!(ctx('buildarm-01', clean));
    expect(clean.commands.map(([, c]) => c.split(' ').slice(0, 2).join(' '))).toEqual(['grub2-editenv -', 'grub2-editenv -', `grubby --info=${K}`, `rm -f`]);
    expect(result.armed).toBe(false);
  });

  it('logs in with the known host key, strictly (the old system)', async () => {
    const seen: unknown[] = [];
    const inner = new RecordingConnector();
    const connector: RemoteConnector = { probe: () => inner.probe(), connect: (t, o) => (seen.push(o.hostKeyMode), inner.connect(t)) };
    await createBaremetalGrubDriver().disarm!(ctx('buildarm-01', connector));
    expect(seen).toEqual(['strict']);
  });

  it('the virt driver has nothing to disarm', () => {
    expect(createVirtLibvirtDriver().disarm).toBeUndefined();
  });
});
