/**
 * The simulated hosts' shell without SSH: parsing (quotes, escapes, operators, redirections), errexit semantics,
 * pipes, stdin, and the programs' behaviour on a SimMachine (systemctl, grubby, grub2-editenv, mkdir/rm/mv, printf).
 */
import { describe, expect, it } from 'vitest';
import { parseScript, wordText, type SimpleCommand } from '../../lab/shell/shell-parse';
import { BufferSink, onceSource, Shell } from '../../lab/shell/shell-run';
import { corePrograms } from '../../lab/shell/programs-core';
import { systemPrograms } from '../../lab/shell/programs-system';
import type { SimHostApi } from '../../lab/fleet/sim-host-api';
import { SimMachine } from '../../lab/fleet/sim-machine';

function fakeHost(machine = SimMachine.configured('builder', 'x86_64', 'buildvm-01')) {
  const calls = { reboots: 0 };
  const host: SimHostApi = {
    name: 'buildvm-01',
    machine,
    requestReboot: () => void calls.reboots++,
    curlFailure: (url) => (url.includes('bad') ? { code: 22, message: 'The requested URL returned error: 404' } : undefined),
  };
  return { host, calls };
}

async function sh(command: string, options: { stdin?: string; host?: SimHostApi } = {}) {
  const host = options.host ?? fakeHost().host;
  const shell = new Shell({
    fs: host.machine.fs,
    programs: new Map([...corePrograms(host), ...systemPrograms(host)]),
    signal: new AbortController().signal,
  });
  const stdout = new BufferSink();
  const stderr = new BufferSink();
  const code = await shell.run(command, { stdin: onceSource(async () => Buffer.from(options.stdin ?? '')), stdout, stderr });
  return { code, stdout: stdout.buffer.toString(), stderr: stderr.buffer.toString() };
}

describe('parsing', () => {
  it('keeps quoted text whole and joins adjacent quoted pieces into one word', () => {
    const [list] = parseScript(`printf '%s\\n' "a b"'c d'e\\ f`);
    expect((list!.first.commands[0] as SimpleCommand).words.map(wordText)).toEqual(['printf', '%s\\n', 'a bc de f']);
  });

  it('splits lists on ; && || and newlines, and reads fd redirections', () => {
    const script = parseScript('a && b || c; d\ne > f 2>&1');
    expect(script).toHaveLength(3);
    expect(script[0]!.rest.map((r) => r.op)).toEqual(['&&', '||']);
    expect(script[2]!.first.commands[0]!.redirects).toEqual([
      { fd: 1, op: '>', target: [{ text: 'f', quote: 'none' }] },
      { fd: 2, op: '>&', target: 1 },
    ]);
  });

  it('refuses what it does not simulate, as a syntax error (status 2)', async () => {
    for (const src of ['echo $(hostname)', 'echo `id`', 'sleep 1 &', 'if true; then echo; fi', '(echo a', '{ echo a; ', "echo 'open"]) {
      const r = await sh(src);
      expect(r.code, src).toBe(2);
      expect(r.stderr, src).toMatch(/^sh: /);
    }
  });
});

describe('running', () => {
  it('expands variables outside single quotes only, and $? after a command', async () => {
    expect((await sh(`X=1; echo "$X" '$X' \\$X \${X}y; false; echo $?`)).stdout).toBe('1 $X $X 1y\n1\n');
  });

  it('set -e stops at a failing command but not at a tested one', async () => {
    expect(await sh('set -e; echo a; false && echo no; echo b; false; echo c')).toMatchObject({ code: 1, stdout: 'a\nb\n' });
    expect(await sh('echo a; false; echo b')).toMatchObject({ code: 0, stdout: 'a\nb\n' });
  });

  it('runs ( subshells ) with their own umask, cwd and exit, and { groups; } in the shell itself', async () => {
    const { host } = fakeHost();
    const r = await sh('(umask 077 && cd /etc && cat > kojid/x.tmp); umask; pwd 2>/dev/null; (exit 3); echo "sub $?"', { host, stdin: 'secret' });
    expect(r.stdout).toBe('0022\nsub 3\n');
    expect(host.machine.fs.get('/etc/kojid/x.tmp')).toMatchObject({ mode: 0o600, content: Buffer.from('secret') });
    // rekick's atomic write: on failure, clean up and keep the failing status.
    const w = await sh(`mkdir -p -- '/etc/none/a' && cat > /no/tmp && mv -f -- /no/tmp /x || { rc=$?; rm -f -- /no/tmp; exit $rc; }; echo unreachable`, { host });
    expect(w).toMatchObject({ code: 1, stdout: '' });
    expect(await sh('{ echo a; echo b; } > /tmp/ab && cat /tmp/ab', { host })).toMatchObject({ stdout: 'a\nb\n' });
    expect(await sh('set -e; (false); echo no')).toMatchObject({ code: 1, stdout: '' });
  });

  it('pipes stdout into the next program, and `!` negates', async () => {
    expect((await sh('echo hi | sha256sum')).stdout).toMatch(/^[0-9a-f]{64} {2}-\n$/);
    expect(await sh('! test -e /nope')).toMatchObject({ code: 0 });
  });

  it('>> appends, 2>/dev/null discards, < reads a file', async () => {
    const { host } = fakeHost();
    await sh('echo one > /tmp/f; echo two >> /tmp/f; cat /nope 2>/dev/null', { host });
    expect(host.machine.fs.readText('/tmp/f')).toBe('one\ntwo\n');
    expect((await sh('cat < /tmp/f', { host })).stdout).toBe('one\ntwo\n');
  });

  it('a redirection into a missing directory fails before the program runs', async () => {
    expect(await sh('echo x > /no/such/file')).toMatchObject({ code: 1, stderr: 'sh: /no/such/file: No such file or directory\n' });
  });

  it('sh reads its script from stdin when given none', async () => {
    expect(await sh('sh', { stdin: 'echo from-stdin; exit 3' })).toMatchObject({ code: 3, stdout: 'from-stdin\n' });
  });

  it('printf reuses its format and knows %s %d and escapes', async () => {
    expect((await sh(`printf '%s=%d\\n' a 1 b 2`)).stdout).toBe('a=1\nb=2\n');
  });
});

describe('programs on the machine', () => {
  it('mkdir without -p needs the parent; rm -r removes trees; rm -f ignores missing files', async () => {
    const { host } = fakeHost();
    expect(await sh('mkdir /a/b')).toMatchObject({ code: 1, stderr: "mkdir: cannot create directory '/a/b': No such file or directory\n" });
    expect(await sh('mkdir -p /a/b && echo x > /a/b/c && rm /a; echo $?; rm -r /a && test ! -e /a/b/c && rm -f /nope && echo gone', { host })).toMatchObject({
      stdout: '1\ngone\n',
    });
  });

  it('systemctl: kojid starts only with its config; is-enabled / is-active report like systemd', async () => {
    const { host } = fakeHost(SimMachine.fresh('builder', 'x86_64'));
    expect(await sh('systemctl enable kojid && systemctl start kojid', { host })).toMatchObject({ code: 1, stderr: expect.stringContaining('Job for kojid.service failed') });
    expect(await sh('systemctl is-active kojid', { host })).toMatchObject({ code: 3, stdout: 'failed\n' });
    expect(await sh('mkdir -p /etc/kojid && echo "[kojid]" > /etc/kojid/kojid.conf && systemctl restart kojid.service && systemctl is-active kojid', { host })).toMatchObject({
      code: 0,
      stdout: 'active\n',
    });
    expect(await sh('systemctl enable nosuch', { host })).toMatchObject({ code: 1, stderr: 'Failed to enable unit: Unit file nosuch.service does not exist.\n' });
  });

  it('systemctl reboot asks the host to reboot and exits 0', async () => {
    const { host, calls } = fakeHost();
    expect(await sh('systemctl reboot', { host })).toMatchObject({ code: 0 });
    expect(calls.reboots).toBe(1);
  });

  it('hostnamectl set-hostname changes hostname and /etc/hostname', async () => {
    const { host } = fakeHost(SimMachine.fresh('builder', 'aarch64'));
    expect((await sh('hostnamectl set-hostname buildarm-07 && hostname && cat /etc/hostname', { host })).stdout).toBe('buildarm-07\nbuildarm-07\n');
  });

  it('grubby refuses a kernel that is not there, replaces an entry on rerun, and removes it', async () => {
    const { host } = fakeHost();
    expect(await sh('grubby --add-kernel=/boot/vmlinuz-x --title=t --args="inst.ks=a"', { host })).toMatchObject({ code: 1 });
    await sh('echo k > /boot/vmlinuz-x', { host });
    await sh('grubby --add-kernel=/boot/vmlinuz-x --title=t --args="inst.ks=a"', { host });
    await sh('grubby --add-kernel /boot/vmlinuz-x --title t --args "inst.ks=b"', { host });
    expect(host.machine.grubEntries.filter((e) => e.title === 't')).toEqual([{ kernel: '/boot/vmlinuz-x', initrd: undefined, title: 't', args: 'inst.ks=b' }]);
    expect((await sh('grubby --default-kernel', { host })).stdout).toBe(`${host.machine.defaultKernel}\n`);
    await sh('grubby --remove-kernel=/boot/vmlinuz-x', { host });
    expect(host.machine.grubEntries).toHaveLength(1);
    await sh('grub2-reboot t', { host });
    expect(host.machine.nextEntry).toBe('t');
  });

  it('grub2-editenv lists next_entry while grub2-reboot’s one-time entry is set, and unsets it', async () => {
    const { host } = fakeHost();
    expect((await sh('grub2-editenv - list', { host })).stdout).not.toContain('next_entry');
    await sh('grub2-reboot rekick-installer', { host });
    expect((await sh('grub2-editenv - list', { host })).stdout).toContain('next_entry=rekick-installer\n');
    expect(await sh('grub2-editenv - unset next_entry', { host })).toMatchObject({ code: 0 });
    expect(host.machine.nextEntry).toBeUndefined();
    expect(await sh('grub2-editenv - unset next_entry', { host })).toMatchObject({ code: 0 }); // idempotent
    expect(await sh('grub2-editenv /nowhere list', { host })).toMatchObject({ code: 1 });
  });

  it('curl without -f succeeds on HTTP errors, with -f fails with 22, and cannot write into a missing directory', async () => {
    expect(await sh('curl -sS http://bad/x -o /tmp/x')).toMatchObject({ code: 0 });
    expect(await sh('curl -fsS http://bad/x -o /tmp/x')).toMatchObject({ code: 22 });
    expect(await sh('curl -fsSL http://good/x -o /no/dir/x')).toMatchObject({ code: 23 });
  });
});
