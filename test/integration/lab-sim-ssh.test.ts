/**
 * The lab's simulated hosts over real SSH (ssh2's Client against the sims' ssh2 Server on loopback): exec output
 * and exit codes, the interpreter through exec, stdin to `cat >`, SFTP write + rename + chmod, publickey-only
 * auth, reboot on the same port, install with a new host key and empty config, virsh/virt-install touching only
 * the named guest, and fault injection.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type SFTPWrapper } from 'ssh2';
import { generateEd25519KeyPair } from '../../lab/fleet/ssh-keys';
import { createSimFleet, type SimFleet } from '../../lab/fleet/sim-fleet';
import type { SimHost } from '../../lab/fleet/sim-host';

const clientKey = generateEd25519KeyPair('rekick-test');
let fleet: SimFleet;
const clients: Client[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Connects as root with the test key; records the host key fingerprint presented. */
function connect(host: SimHost, options: { privateKey?: string; username?: string } = {}): Promise<{ client: Client; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    clients.push(client);
    let fingerprint = '';
    client
      .on('ready', () => resolve({ client, fingerprint }))
      .on('error', reject)
      .connect({
        host: host.address,
        port: host.port,
        username: options.username ?? 'root',
        privateKey: options.privateKey ?? clientKey.private,
        readyTimeout: 5000,
        hostVerifier: (key: Buffer) => {
          fingerprint = fingerprintOf(key);
          return true;
        },
      });
  });
}

function run(client: Client, command: string, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const r: Run = { code: null, stdout: '', stderr: '' };
      stream.on('data', (d: Buffer) => (r.stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
      stream.on('exit', (code: number | null) => (r.code = code));
      stream.on('close', () => resolve(r));
      if (stdin !== undefined) stream.end(stdin);
    });
  });
}

function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

function call<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Whether something accepts TCP connections on the host's port. */
function tcpOpen(host: SimHost): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: host.address, port: host.port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const closed = (client: Client) => new Promise<void>((resolve) => client.once('close', () => resolve()));

beforeAll(async () => {
  fleet = await createSimFleet({
    hosts: [
      { name: 'buildarm-01', kind: 'baremetal', arch: 'aarch64' },
      { name: 'buildarm-02', kind: 'baremetal', arch: 'aarch64' },
      { name: 'buildarm-03', kind: 'baremetal', arch: 'aarch64' },
      { name: 'bvmhost-01', kind: 'virthost', arch: 'x86_64' },
      { name: 'buildvm-01', kind: 'virt', arch: 'x86_64', virthost: 'bvmhost-01' },
      { name: 'buildvm-02', kind: 'virt', arch: 'x86_64', virthost: 'bvmhost-01' },
    ],
    clientPublicKey: clientKey.public,
    rebootDelayMs: 50,
    installDelayMs: 100,
  });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await fleet?.stop();
});

const b = (name: string) => fleet.builders.get(name)!;

describe('exec', () => {
  it('runs allowed programs with their output and exit codes, and 127 for unknown programs', async () => {
    const { client } = await connect(b('buildarm-01'));
    expect(await run(client, 'uname -m')).toEqual({ code: 0, stdout: 'aarch64\n', stderr: '' });
    expect(await run(client, 'hostname')).toMatchObject({ code: 0, stdout: 'buildarm-01\n' });
    expect(await run(client, 'id -u')).toMatchObject({ code: 0, stdout: '0\n' });
    expect(await run(client, 'false')).toMatchObject({ code: 1 });
    expect(await run(client, 'dnf install -y foo')).toEqual({ code: 127, stdout: '', stderr: 'sh: dnf: command not found\n' });
    expect(await run(client, 'cat /nonexistent')).toMatchObject({ code: 1, stderr: 'cat: /nonexistent: No such file or directory\n' });
    expect(b('buildarm-01').commands).toContain('dnf install -y foo');
  });

  it('interprets quoting, && || ;, redirection, 2>&1, sh -c and set -e', async () => {
    const { client } = await connect(b('buildarm-01'));
    expect((await run(client, `echo 'a  b' "c \\"d\\" $HOME" e\\ f`)).stdout).toBe('a  b c "d" /root e f\n');
    expect(await run(client, 'false && echo no; true || echo no; false || echo yes')).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await run(client, 'mkdir -p /etc/x/y && echo hi > /etc/x/y/f && cat /etc/x/y/f')).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await run(client, 'cat /missing > /tmp/out 2>&1; cat /tmp/out')).toMatchObject({ stdout: 'cat: /missing: No such file or directory\n', stderr: '' });
    expect(await run(client, `sh -c 'set -e; echo one; false; echo two'`)).toMatchObject({ code: 1, stdout: 'one\n' });
    expect(await run(client, 'set -e; false || true; echo reached')).toMatchObject({ code: 0, stdout: 'reached\n' });
    expect(await run(client, 'echo "unterminated')).toMatchObject({ code: 2 });
  });

  it('writes a file from stdin with `cat >` and checks it with sha256sum, test, chmod, chown, mv', async () => {
    const { client } = await connect(b('buildarm-02'));
    const content = 'line one\nline two with \'quotes\' and "more"\n';
    const r = await run(client, 'mkdir -p /etc/kojid && cat > /etc/kojid/.tmp.1 && chmod 0600 /etc/kojid/.tmp.1 && chown root:root /etc/kojid/.tmp.1 && mv /etc/kojid/.tmp.1 /etc/kojid/secret.pem', content);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const node = b('buildarm-02').machine.fs.get('/etc/kojid/secret.pem')!;
    expect(node.content.toString()).toBe(content);
    expect(node.mode).toBe(0o600);
    expect(b('buildarm-02').machine.fs.exists('/etc/kojid/.tmp.1')).toBe(false);
    const sum = createHash('sha256').update(content).digest('hex');
    expect((await run(client, 'sha256sum /etc/kojid/secret.pem')).stdout).toBe(`${sum}  /etc/kojid/secret.pem\n`);
    expect((await run(client, 'test -f /etc/kojid/secret.pem && [ -d /etc/kojid ] && ! test -e /nope && echo ok')).stdout).toBe('ok\n');
  });

  it('curl -fsSL downloads into a file, and fails like curl for a URL it is told to fail', async () => {
    const host = b('buildarm-02');
    const { client } = await connect(host);
    expect(await run(client, 'curl -fsSL http://dl.lab/vmlinuz -o /boot/vmlinuz-rekick')).toMatchObject({ code: 0 });
    expect(host.machine.fs.readText('/boot/vmlinuz-rekick')).toContain('http://dl.lab/vmlinuz');
    const clear = host.inject({ kind: 'curl-fail', url: 'initrd' });
    expect(await run(client, 'curl -fsSL http://dl.lab/initrd.img -o /boot/initrd-rekick')).toEqual({
      code: 22,
      stdout: '',
      stderr: 'curl: (22) The requested URL returned error: 404\n',
    });
    expect(host.machine.fs.exists('/boot/initrd-rekick')).toBe(false);
    clear();
    expect(await run(client, 'curl -fsSL http://dl.lab/initrd.img -o /boot/initrd-rekick')).toMatchObject({ code: 0 });
  });
});

describe('auth', () => {
  it('accepts only the configured public key, as root', async () => {
    const other = generateEd25519KeyPair();
    await expect(connect(b('buildarm-01'), { privateKey: other.private })).rejects.toThrow(/authentication methods failed/i);
    await expect(connect(b('buildarm-01'), { username: 'admin' })).rejects.toThrow(/authentication methods failed/i);
  });

  it('presents the host key listed in its known_hosts line', async () => {
    const host = b('buildarm-01');
    const { fingerprint } = await connect(host);
    expect(fingerprint).toBe(host.hostKey.fingerprint);
    const line = fleet.knownHostsLines().find((l) => l.startsWith(`[${host.address}]:${host.port} `))!;
    const blob = Buffer.from(line.split(' ')[2]!, 'base64');
    expect(fingerprintOf(blob)).toBe(fingerprint);
  });
});

describe('sftp', () => {
  it('writes, renames over nothing, chmods, stats and reads back a file', async () => {
    const host = b('buildarm-03');
    const { client } = await connect(host);
    const sftp = await sftpOf(client);
    await call((cb) => sftp.mkdir('/etc/pki-sim', cb));
    await call((cb) => sftp.writeFile('/etc/pki-sim/.tmp-1', 'cert data\n', cb));
    await call((cb) => sftp.chmod('/etc/pki-sim/.tmp-1', 0o600, cb));
    await call((cb) => sftp.rename('/etc/pki-sim/.tmp-1', '/etc/pki-sim/host.pem', cb));
    const st = await call<{ mode: number; size: number }>((cb) => sftp.stat('/etc/pki-sim/host.pem', cb as never));
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.size).toBe(10);
    expect((await call<Buffer>((cb) => sftp.readFile('/etc/pki-sim/host.pem', cb as never))).toString()).toBe('cert data\n');
    expect(await call<string>((cb) => sftp.realpath('.', cb as never))).toBe('/root');
    // OpenSSH's plain SFTP rename refuses an existing target; the sim does too.
    await call((cb) => sftp.writeFile('/etc/pki-sim/.tmp-2', 'v2', cb));
    await expect(call((cb) => sftp.rename('/etc/pki-sim/.tmp-2', '/etc/pki-sim/host.pem', cb))).rejects.toThrow();
    await expect(call((cb) => sftp.stat('/etc/pki-sim/none', cb as never))).rejects.toThrow(/No such file/);
    expect(host.machine.fs.get('/etc/pki-sim/host.pem')!.mode).toBe(0o600);
    expect(host.records.some((r) => r.kind === 'sftp' && r.command === 'sftp rename /etc/pki-sim/.tmp-1 /etc/pki-sim/host.pem')).toBe(true);
  });
});

describe('reboot and install (bare metal)', () => {
  it('systemctl reboot acknowledges, drops the connection, and the host returns on the same port with the same key', async () => {
    const host = b('buildarm-01');
    const port = host.port;
    const key = host.hostKey.fingerprint;
    const { client } = await connect(host);
    await run(client, 'systemctl disable kojid');
    const booted = host.waitForBoot();
    const gone = closed(client);
    expect(await run(client, 'systemctl reboot')).toMatchObject({ code: 0 });
    await gone;
    expect(await tcpOpen(host)).toBe(false);
    await booted;
    expect(host.port).toBe(port);
    const again = await connect(host);
    expect(again.fingerprint).toBe(key);
    // kojid was disabled: it does not come back; enabled with its config, it does after the next reboot.
    expect(await run(again.client, 'systemctl is-active kojid')).toMatchObject({ code: 3, stdout: 'inactive\n' });
    expect(await run(again.client, 'systemctl enable kojid')).toMatchObject({ code: 0 });
    const next = host.waitForBoot();
    await run(again.client, 'systemctl reboot');
    await next;
    const third = await connect(host);
    expect(await run(third.client, 'systemctl is-active kojid')).toMatchObject({ code: 0, stdout: 'active\n' });
  });

  it('a one-time grub entry with inst.ks= makes the reboot an install: new host key, empty config, same port', async () => {
    const host = b('buildarm-03');
    const port = host.port;
    const oldKey = host.hostKey.fingerprint;
    const { client } = await connect(host);
    const stage = [
      'curl -fsSL http://dl.lab/vmlinuz -o /boot/vmlinuz-rekick',
      'curl -fsSL http://dl.lab/initrd.img -o /boot/initrd-rekick.img',
      `grubby --add-kernel=/boot/vmlinuz-rekick --initrd=/boot/initrd-rekick.img --title=rekick-install --args="inst.ks=http://ks.lab/buildarm-03.ks ip=dhcp"`,
      'grub2-reboot rekick-install',
    ].join(' && ');
    expect(await run(client, stage)).toMatchObject({ code: 0, stderr: '' });
    expect((await run(client, 'grubby --info=/boot/vmlinuz-rekick')).stdout).toContain('args="inst.ks=http://ks.lab/buildarm-03.ks ip=dhcp"');
    const installed = host.waitForBoot({ install: true });
    await run(client, 'systemctl reboot');
    await installed;
    expect(host.port).toBe(port);
    expect(host.hostKey.fingerprint).not.toBe(oldKey);
    const after = await connect(host);
    expect(after.fingerprint).toBe(host.hostKey.fingerprint);
    expect(await run(after.client, 'test -e /etc/kojid/kojid.conf || echo empty; test -e /etc/pki-sim || echo nopki; hostname')).toMatchObject({
      stdout: 'empty\nnopki\nlocalhost.localdomain\n',
    });
    expect(await run(after.client, 'systemctl is-enabled kojid')).toMatchObject({ code: 1, stdout: 'disabled\n' });
    expect((await run(after.client, 'grubby --info=ALL')).stdout).not.toContain('rekick');
  });

  it('a one-time entry without inst.ks= is an ordinary reboot', async () => {
    const host = b('buildarm-02');
    const key = host.hostKey.fingerprint;
    const { client } = await connect(host);
    await run(client, 'grubby --add-kernel=/boot/vmlinuz-rekick --title=plain --args="quiet" && grub2-reboot plain');
    const booted = host.waitForBoot();
    await run(client, 'systemctl reboot');
    await booted;
    expect(host.installs).toBe(0);
    expect(host.hostKey.fingerprint).toBe(key);
  });
});

describe('virthost', () => {
  it('virsh destroy and undefine, then virt-install, reinstall only the named guest', async () => {
    const vh = fleet.virthosts.get('bvmhost-01')!;
    const g1 = b('buildvm-01');
    const g2 = b('buildvm-02');
    const g1Key = g1.hostKey.fingerprint;
    const g2Key = g2.hostKey.fingerprint;
    const { client } = await connect(vh);
    const guest = await connect(g1);
    const guestGone = closed(guest.client);
    expect(await run(client, 'virsh destroy buildvm-01')).toMatchObject({ code: 0, stdout: "Domain 'buildvm-01' destroyed\n\n" });
    await guestGone;
    expect(await tcpOpen(g1)).toBe(false);
    // Not running: no error (rekick's contract), with virsh's message.
    expect(await run(client, 'virsh destroy buildvm-01')).toMatchObject({ code: 0, stderr: expect.stringContaining('domain is not running') });
    expect(await run(client, 'virsh domstate buildvm-01')).toMatchObject({ code: 0, stdout: 'shut off\n\n' });
    expect(await run(client, 'virsh undefine buildvm-01 --nvram')).toMatchObject({ code: 0 });
    expect(await run(client, 'virsh undefine buildvm-01 --nvram')).toMatchObject({ code: 1, stderr: "error: failed to get domain 'buildvm-01'\n" });
    expect((await run(client, 'virsh list --all')).stdout).not.toContain('buildvm-01');

    const installed = g1.waitForBoot({ install: true });
    const r = await run(
      client,
      `virt-install --name buildvm-01 --location http://dl.lab/fedora/43/x86_64/os/ --extra-args "inst.ks=http://ks.lab/buildvm-01.ks ip=dhcp" --memory 8192 --noautoconsole`,
    );
    expect(r).toMatchObject({ code: 0 });
    expect(vh.virtInstalls.at(-1)).toMatchObject({ name: 'buildvm-01', extraArgs: 'inst.ks=http://ks.lab/buildvm-01.ks ip=dhcp' });
    expect(await run(client, 'virt-install --name buildvm-01 --location x')).toMatchObject({ code: 1, stderr: expect.stringContaining('already in use') });
    await installed;
    expect(g1.hostKey.fingerprint).not.toBe(g1Key);
    const fresh = await connect(g1);
    expect(await run(fresh.client, 'test -f /etc/kojid/kojid.conf')).toMatchObject({ code: 1 });

    // The other guest was never touched.
    expect(g2.hostKey.fingerprint).toBe(g2Key);
    expect(g2.boots).toBe(0);
    const other = await connect(g2);
    expect(await run(other.client, 'systemctl is-active kojid')).toMatchObject({ code: 0 });
    expect((await run(client, 'virsh list')).stdout).toMatch(/buildvm-02\s+running/);
  });

  it('virsh is not a program on a bare-metal builder', async () => {
    const { client } = await connect(b('buildarm-02'));
    expect(await run(client, 'virsh list')).toMatchObject({ code: 127 });
  });
});

describe('fault injection', () => {
  it('fails a matching command with the given code and stderr, once', async () => {
    const host = b('buildarm-02');
    host.inject({ kind: 'fail', match: /^grub2-reboot/, code: 4, stderr: 'grub2-reboot: error: failed to write grubenv', times: 1 });
    const { client } = await connect(host);
    expect(await run(client, 'grub2-reboot x && echo after')).toEqual({ code: 4, stdout: '', stderr: 'grub2-reboot: error: failed to write grubenv\n' });
    expect(await run(client, 'grub2-reboot x && echo after')).toMatchObject({ code: 0, stdout: 'after\n' });
  });

  it('hangs a matching command until the connection closes', async () => {
    const host = b('buildarm-02');
    const clear = host.inject({ kind: 'hang', match: 'systemctl is-active' });
    const { client } = await connect(host);
    let settled = false;
    const pending = run(client, 'systemctl is-active kojid').finally(() => (settled = true));
    // Another channel on the same connection still works while the first one hangs.
    expect(await run(client, 'echo alive')).toMatchObject({ stdout: 'alive\n' });
    expect(settled).toBe(false);
    clear();
    client.end();
    expect((await pending).code).toBeNull();
  });

  it('closes the connection in the middle of a matching command', async () => {
    const host = b('buildarm-02');
    host.inject({ kind: 'drop', match: 'sleep', times: 1 });
    const { client } = await connect(host);
    const gone = closed(client);
    const r = await run(client, 'echo before; sleep 5; echo after');
    await gone;
    expect(r.code).toBeNull();
    expect(r.stdout).toBe('before\n');
  });

  it('refuses connections until cleared', async () => {
    const host = b('buildarm-02');
    const clear = host.inject({ kind: 'refuse' });
    await new Promise((r) => setTimeout(r, 20));
    await expect(connect(host)).rejects.toThrow(/ECONNREFUSED/);
    clear();
    await new Promise((r) => setTimeout(r, 20));
    await expect(connect(host)).resolves.toBeTruthy();
  });

  it('never comes back after a reboot while no-return is set; comes back once it is cleared', async () => {
    const host = b('buildarm-02');
    const clear = host.inject({ kind: 'no-return' });
    const { client } = await connect(host);
    const gone = closed(client);
    const booted = host.waitForBoot();
    await run(client, 'systemctl reboot');
    await gone;
    await new Promise((r) => setTimeout(r, 250)); // well past rebootDelayMs (50ms)
    expect(await tcpOpen(host)).toBe(false);
    expect(host.state).toBe('down');
    clear();
    await booted;
    await expect(connect(host)).resolves.toBeTruthy();
  });
});
