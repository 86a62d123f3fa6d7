/**
 * Host names, reasons and config values never reach a remote shell unquoted.
 * - shellQuote: 3,000 seeded random strings (quotes, $(), backticks, ;, newlines, globs, unicode) round-trip
 *   through a real /bin/sh unchanged; splitWords splits config argument strings exactly as sh does.
 * - Every remote command the drivers and post-install build, from a config whose values are hostile, is run by a
 *   real sh whose programs (curl, grubby, virsh, virt-install, hostnamectl, ...) are functions that record their
 *   argv: each value arrives as one argument, verbatim, and nothing the values say is executed.
 * - A reason with $(touch ...), backticks and ; typed in chat reaches Koji only as the comment's text.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { createBaremetalGrubDriver } from '../../src/drivers/baremetal-grub';
import type { DriverContext } from '../../src/drivers/types';
import { createVirtLibvirtDriver } from '../../src/drivers/virt-libvirt';
import { Executor } from '../../src/executor/executor';
import { runPostinstall, runVerify } from '../../src/ssh/postinstall-runner';
import { shellQuote, splitWords } from '../../src/ssh/shell-quote';
import type { ExecOptions, ExecResult, HostTarget, RemoteConnector, RemoteHost } from '../../src/ssh/types';
import { disableStep } from '../../src/steps/disable';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeChat } from '../fakes/fake-chat';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { prng } from '../support/prng';

const SEED = Number(process.env.REKICK_FUZZ_SEED ?? 0x5eed_2024);
const dir = mkdtempSync(join(tmpdir(), 'rekick-quote-'));
const MARK = join(dir, 'pwned');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PIECES = [
  "'", '"', '\\', '$', '$(', ')', '`', ';', '&', '|', '>', '<', '*', '?', '[', ']', '{', '}', '~', '#', '!', '\n', '\t', ' ', '  ',
  "'\\''", `$(touch ${MARK})`, `\`touch ${MARK}\``, `; touch ${MARK}`, '${IFS}', '$HOME', '%s', '-n', '--', '-e', 'é', 'λ', '\u{1f600}',
  'a', 'b', 'word', '0', '=',
];

function randomValue(rand: () => number): string {
  const n = Math.floor(rand() * 8);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}

/** Runs a script in a real sh and returns what printf '%s\0' printed, split. */
function shWords(script: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').slice(0, -1);
}

describe('shell quoting against a real sh', () => {
  it('3,000 random hostile strings round-trip through shellQuote unchanged, and run nothing', () => {
    const rand = prng(SEED);
    const values = Array.from({ length: 3000 }, () => randomValue(rand));
    const printed = shWords(`printf '%s\\0' ${values.map(shellQuote).join(' ')}`);
    expect(printed).toEqual(values);
    expect(existsSync(MARK)).toBe(false);
  });

  it('splitWords splits config argument strings as sh does, expanding nothing', () => {
    const rand = prng(SEED + 1);
    for (let i = 0; i < 300; i++) {
      const words = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => randomValue(rand) || 'x');
      const text = words.map(shellQuote).join(rand() < 0.5 ? ' ' : ' \t ');
      expect(splitWords(text), text).toEqual(words);
      expect(shWords(`printf '%s\\0' ${text}`), text).toEqual(words);
    }
    // Unquoted metacharacters in a config string stay literal words once rekick quotes them again.
    const literal = splitWords(`--disk path=/x;$(touch ${MARK}) \`id\``);
    expect(shWords(`printf '%s\\0' ${literal.map(shellQuote).join(' ')}`)).toEqual(['--disk', 'path=/x;$(touch', `${MARK})`, '`id`']);
    expect(existsSync(MARK)).toBe(false);
  });
});

/** Records every command as it would reach the remote shell. */
class RecordingConnector implements RemoteConnector {
  readonly commands: Array<{ host: string; command: string }> = [];
  async probe() {
    return 'down' as const;
  }
  async connect(target: HostTarget): Promise<RemoteHost> {
    return {
      target,
      exec: async (command: string, _options: ExecOptions = {}): Promise<ExecResult> => {
        this.commands.push({ host: target.name, command });
        // grubby --info: no earlier entry; virsh: the domain is not running / not defined.
        return { code: command.startsWith('grubby --info') ? 1 : 0, stdout: '', stderr: '', tail: [] };
      },
      writeFile: async () => undefined,
      readFile: async () => Buffer.alloc(0),
      close: async () => undefined,
    };
  }
}

/** Runs commands in a real sh where every program rekick may use only records its argv (NUL-separated lines). */
function runRecorded(commandsRun: string[]): string[][] {
  const log = join(dir, 'argv.log');
  rmSync(log, { force: true });
  const programs = ['curl', 'grubby', 'grub2-reboot', 'virsh', 'virt-install', 'hostnamectl', 'systemctl', 'kojid-check'];
  const fns = programs.map((p) => `${p.replace(/-/g, '_')}() { printf '%s\\0' ${JSON.stringify(p)} "$@" >> ${shellQuote(log)}; printf '\\n' >> ${shellQuote(log)}; }`).join('\n');
  // sh function names cannot contain '-': call the recorder through an alias-free rewrite of the first word.
  const script = commandsRun.map((c) => c.replace(/^(grub2-reboot|virt-install|kojid-check)\b/, (m) => m.replace(/-/g, '_'))).join('\n');
  execFileSync('/bin/sh', ['-c', `${fns}\n${script}`], { encoding: 'utf8' });
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\0').slice(0, -1));
}

describe('remote commands built from hostile config values', () => {
  const evil = {
    kernel: `http://dl/{arch}/vmlinuz?$(touch ${MARK})`,
    initrd: `http://dl/{arch}/initrd.img;touch ${MARK}`,
    kickstart: `http://ks/{host}.ks?a='b'&c=\`touch ${MARK}\``,
    args: `ip=dhcp inst.text "quoted arg" $(touch ${MARK})`,
    tree: `http://dl/{arch}/os/|touch ${MARK}`,
    virtArgs: `--memory 4096 --disk 'path=/var/lib/libvirt/images/{host}.qcow2;touch ${MARK}' --name-suffix $(touch$IFS${MARK})`,
  };
  const config = testConfig({
    installer: evil,
    postinstall: { files: [], commands: ['hostnamectl set-hostname {host}', 'kojid-check {arch} {address}'], verify: ['systemctl is-active kojid'] },
  });
  const ctx = (name: string, connector: RemoteConnector): DriverContext => ({
    host: config.hosts.find((h) => h.name === name)!,
    config,
    connector,
    signal: new AbortController().signal,
    timeoutMs: 5000,
    progress: () => undefined,
    output: () => undefined,
  });

  it('bare metal staging: every URL and the kernel arguments arrive as one verbatim argument each', async () => {
    const rec = new RecordingConnector();
    await createBaremetalGrubDriver().stage(ctx('buildarm-01', rec));
    const argv = runRecorded(rec.commands.map((c) => c.command));
    expect(existsSync(MARK)).toBe(false);
    const ks = `http://ks/buildarm-01.ks?a='b'&c=\`touch ${MARK}\``;
    expect(argv).toEqual([
      ['curl', '-fsSL', '-o', '/boot/vmlinuz-rekick-installer', `http://dl/aarch64/vmlinuz?$(touch ${MARK})`],
      ['curl', '-fsSL', '-o', '/boot/initrd-rekick-installer.img', `http://dl/aarch64/initrd.img;touch ${MARK}`],
      ['grubby', '--info=/boot/vmlinuz-rekick-installer'],
      [
        'grubby',
        '--add-kernel=/boot/vmlinuz-rekick-installer',
        '--initrd=/boot/initrd-rekick-installer.img',
        '--title=rekick-installer',
        `--args=inst.ks=${ks} ip=dhcp inst.text "quoted arg" $(touch ${MARK})`,
      ],
      ['grub2-reboot', 'rekick-installer'],
    ]);
  });

  it('virt staging and virt-install on the virthost: the guest name, tree and each site option verbatim', async () => {
    const rec = new RecordingConnector();
    const driver = createVirtLibvirtDriver();
    await driver.stage(ctx('buildvm-01', rec));
    await driver.reinstall(ctx('buildvm-01', rec));
    expect(rec.commands.every((c) => c.host === 'vmhost-01')).toBe(true);
    const argv = runRecorded(rec.commands.map((c) => c.command));
    expect(existsSync(MARK)).toBe(false);
    expect(argv[0]).toEqual(['virsh', 'destroy', 'buildvm-01']);
    expect(argv[1]).toEqual(['virsh', 'undefine', 'buildvm-01', '--nvram']);
    expect(argv.at(-1)).toEqual([
      'virt-install',
      '--name',
      'buildvm-01',
      '--location',
      `http://dl/x86_64/os/|touch ${MARK}`,
      '--extra-args',
      `inst.ks=http://ks/buildvm-01.ks?a='b'&c=\`touch ${MARK}\` ip=dhcp inst.text "quoted arg" $(touch ${MARK})`,
      '--memory',
      '4096',
      '--disk',
      `path=/var/lib/libvirt/images/buildvm-01.qcow2;touch ${MARK}`,
      '--name-suffix',
      `$(touch$IFS${MARK})`,
    ]);
  });

  it('post-install and verify: {host}, {arch} and {address} are quoted into the site commands', async () => {
    const rec = new RecordingConnector();
    const host = config.hosts.find((h) => h.name === 'buildarm-02')!;
    const remote = await rec.connect({ name: host.name, address: host.name, port: 22 });
    await runPostinstall(remote, host, config);
    await runVerify(remote, host, config);
    expect(rec.commands.map((c) => c.command)).toEqual([
      "hostnamectl set-hostname 'buildarm-02'",
      "kojid-check 'aarch64' 'buildarm-02'",
      'systemctl is-active kojid',
    ]);
    expect(runRecorded(rec.commands.map((c) => c.command))).toEqual([
      ['hostnamectl', 'set-hostname', 'buildarm-02'],
      ['kojid-check', 'aarch64', 'buildarm-02'],
      ['systemctl', 'is-active', 'kojid'],
    ]);
  });

  it('a host name that is not a plain name never gets into the config', () => {
    for (const name of ['buildarm-01;reboot', '$(reboot)', 'a b', '`id`', "it's", '-rf', 'b\u0456ldarm']) {
      expect(() => testConfig({}, [{ name, arch: 'x86_64', kind: 'baremetal' }]), name).toThrow(/host name/);
    }
  });
});

describe('a hostile reason typed in chat', () => {
  it('reaches Koji only as the comment text; nothing runs', async () => {
    const config = testConfig();
    const store = new MemoryStore();
    await store.open();
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64');
    const log = pino({ level: 'silent' });
    const steps = new ScriptedSteps().steps().map((s) => (s.name === 'disable' ? disableStep : s));
    const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
    const chat = new FakeChat('irc');
    const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters: [chat] });
    await chat.start((m) => router.handle(m));
    const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
    const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
    const reason = `$(touch ${MARK}); \`touch ${MARK}\` && rm -rf / | sh`;
    await chat.say(kevin, `!reinstall buildarm-01 --reason "${reason}"`);
    await executor.idle();
    expect(koji.hosts.get('buildarm-01')!.comment).toBe(`rekick: reinstalling, asked by irc:kevin (job ${store.listJobs()[0]!.id}): ${reason}`);
    await chat.say(nirik, `!deny buildarm-01 ${reason}`);
    expect(koji.hosts.get('buildarm-01')!.comment).toBe(`rekick: enable denied by irc:nirik (job ${store.listJobs()[0]!.id}): ${reason}`);
    expect(store.listJobs()[0]).toMatchObject({ state: 'denied', reason, denial: { reason } });
    expect(existsSync(MARK)).toBe(false);
  });
});
