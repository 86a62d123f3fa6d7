/**
 * A fleet of simulated builders for integration tests: one real OpenSSH sshd per host, in the foreground, on its
 * own 127.A.B.x address (A, B random, port 22), with its own host key and an authorized client key. The host's
 * PATH starts with test/fixtures/host-bin, whose doubles of grubby, grub2-reboot, grub2-editenv, systemctl, virsh,
 * virt-install, curl, hostnamectl (and rm of files under /boot) record their arguments and state under the fleet's
 * directory. The harness reacts to their events: `systemctl reboot` stops the host's sshd and brings it back (with a
 * new host key and machine-id when a one-time grub entry was set: the installer ran); `virsh destroy` stops a guest;
 * `virt-install` brings it back reinstalled. A host's `install` setting makes its installs go wrong or restore its
 * host key (SimHost.install).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostTarget } from '../../../src/ssh/types';

const HOST_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/host-bin');
const SSHD = '/usr/sbin/sshd';

export interface SimHostSpec {
  name: string;
  kind?: 'baremetal' | 'virt' | 'virthost';
}

export interface SshdFleetOptions {
  /** How long a rebooting host stays down. Default 300 ms. */
  rebootDownMs?: number;
  /** How long a virt-install'ed guest takes to come up. Default 300 ms. */
  installDownMs?: number;
}

/**
 * What a simulated install does: `new` a fresh system (new host key and machine-id); `keep-host-key` a fresh system
 * whose kickstart restores the old host key (new machine-id only); `skip` nothing: the installer does not run and
 * the old system boots again (GRUB_DEFAULT not saved, a bad installer URL).
 */
export type InstallOutcome = 'new' | 'keep-host-key' | 'skip';

export class SimHost {
  readonly address: string;
  readonly stateDir: string;
  /** What the host's next installs do. */
  install: InstallOutcome = 'new';
  private proc?: ChildProcess;
  private keyGeneration = 0;
  private readonly sshdLog: string[] = [];

  constructor(
    readonly name: string,
    readonly kind: SimHostSpec['kind'],
    address: string,
    private readonly fleet: SshdFleet,
  ) {
    this.address = address;
    this.stateDir = path.join(fleet.dir, 'hosts', name);
    mkdirSync(this.stateDir, { recursive: true });
  }

  get target(): HostTarget {
    return { name: this.name, address: this.address, port: 22 };
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  get hostKeyPath(): string {
    return path.join(this.stateDir, `ssh_host_ed25519_key.${this.keyGeneration}`);
  }

  /** What `ssh-keygen -lf` prints for the current host key: its SHA256 fingerprint. */
  fingerprint(): string {
    return execFileSync('ssh-keygen', ['-lf', `${this.hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  }

  /** The public host key line (`ssh-ed25519 AAAA...`), without comment. */
  publicKey(): string {
    return readFileSync(`${this.hostKeyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  }

  /** A new host key, as a reinstall makes. Takes effect at the next start. */
  newHostKey(): void {
    this.keyGeneration++;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${this.name}-${this.keyGeneration}`, '-f', this.hostKeyPath]);
  }

  /** The host's /etc/machine-id as the cat double serves it (undefined until first read). */
  machineId(): string | undefined {
    return this.state('machine_id')?.trim();
  }

  /** A fresh system as an install leaves it: no state, a new machine-id, and a new host key unless restored. */
  reinstalled(): void {
    if (this.install === 'skip') return;
    for (const f of ['grub-entries', 'enabled', 'hostname', 'machine_id']) rmSync(path.join(this.stateDir, f), { recursive: true, force: true });
    if (this.install === 'new') this.newHostKey();
  }

  /** A path under the host's simulated root, where the curl double downloads to. */
  simRoot(p: string): string {
    return path.join(this.stateDir, 'root', p);
  }

  state(file: string): string | undefined {
    const p = path.join(this.stateDir, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    if (!existsSync(this.hostKeyPath)) this.newHostKey();
    const cfg = path.join(this.stateDir, 'sshd_config');
    const envPath = `${HOST_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    writeFileSync(
      cfg,
      [
        `ListenAddress ${this.address}:22`,
        `HostKey ${this.hostKeyPath}`,
        'PidFile none',
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `AuthorizedKeysFile ${this.fleet.clientKeyPath}.pub`,
        'Subsystem sftp internal-sftp',
        'MaxStartups 100:30:200',
        'LogLevel INFO',
        // SHLVL=1: Debian's bash sources ~/.bashrc for commands run by sshd only when SHLVL < 2; the test machine's
        // root .bashrc (pyenv init) costs ~250 ms per command and would put its own directories before the doubles.
        `SetEnv PATH=${envPath} REKICK_SIM_DIR=${this.fleet.dir} REKICK_SIM_HOST=${this.name} SHLVL=1`,
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    const proc = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => this.sshdLog.push(...d.toString().split('\n').filter(Boolean)));
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
    const deadline = Date.now() + 5000;
    while (!(await canConnect(this.address, 22))) {
      if (!this.proc || Date.now() > deadline) {
        throw new Error(`sshd for ${this.name} on ${this.address} did not start:\n${this.sshdLog.join('\n')}`);
      }
      await sleep(20);
    }
  }

  /** Stops sshd and every session it forked, as a power-off would. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.pid === undefined) return;
    this.proc = undefined;
    for (const pid of descendants(proc.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    // A connection child forked just before the kill can hold the listening socket for a moment: a powered-off
    // host accepts no TCP connection, so stop() returns only once the port refuses them.
    const deadline = Date.now() + 5000;
    while (await canConnect(this.address, 22)) {
      if (Date.now() > deadline) throw new Error(`${this.name}: port 22 on ${this.address} still accepts connections after sshd was killed`);
      await sleep(20);
    }
  }

  log(): string[] {
    return [...this.sshdLog];
  }
}

export class SshdFleet {
  readonly dir: string;
  readonly clientKeyPath: string;
  readonly knownHostsPath: string;
  readonly hosts = new Map<string, SimHost>();
  private eventsOffset = 0;
  private poller?: NodeJS.Timeout;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly options: Required<SshdFleetOptions>;

  constructor(options: SshdFleetOptions = {}) {
    this.options = { rebootDownMs: options.rebootDownMs ?? 300, installDownMs: options.installDownMs ?? 300 };
    this.dir = mkdtempSync(path.join(tmpdir(), 'rekick-sshd-'));
    this.clientKeyPath = path.join(this.dir, 'id_ed25519');
    this.knownHostsPath = path.join(this.dir, 'known_hosts');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rekick-test-client', '-f', this.clientKeyPath]);
    writeFileSync(path.join(this.dir, 'events'), '');
    writeFileSync(path.join(this.dir, 'calls.log'), '');
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no simulated host ${name}`);
    return h;
  }

  /** The client's private key (as rekick reads it). */
  clientKey(): Buffer {
    return readFileSync(this.clientKeyPath);
  }

  /** `known_hosts` with every host's current key, as `name,address type key`. */
  writeKnownHosts(names = [...this.hosts.keys()]): void {
    const lines = names.map((n) => `${n},${this.host(n).address} ${this.host(n).publicKey()}`);
    writeFileSync(this.knownHostsPath, `${lines.join('\n')}\n`);
  }

  /** Recorded invocations of the doubles: [host, program, ...args]. */
  calls(host?: string): string[][] {
    const text = readFileSync(path.join(this.dir, 'calls.log'), 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .filter((c) => host === undefined || c[0] === host);
  }

  clearCalls(): void {
    writeFileSync(path.join(this.dir, 'calls.log'), '');
  }

  guestState(name: string): { defined: boolean; running: boolean } {
    const g = path.join(this.dir, 'guests', name);
    return { defined: existsSync(path.join(g, 'defined')), running: existsSync(path.join(g, 'running')) };
  }

  async add(spec: SimHostSpec, address: string): Promise<SimHost> {
    const host = new SimHost(spec.name, spec.kind, address, this);
    this.hosts.set(spec.name, host);
    if (spec.kind === 'virt') {
      const g = path.join(this.dir, 'guests', spec.name);
      mkdirSync(g, { recursive: true });
      writeFileSync(path.join(g, 'defined'), '');
      writeFileSync(path.join(g, 'running'), '');
    }
    await host.start();
    return host;
  }

  watch(): void {
    this.poller = setInterval(() => this.pollEvents(), 25);
  }

  /** Waits for the reactions to events seen so far (a reboot's restart, an install's boot). */
  async settled(): Promise<void> {
    this.pollEvents();
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private pollEvents(): void {
    const file = path.join(this.dir, 'events');
    const text = readFileSync(file, 'utf8');
    if (text.length <= this.eventsOffset) return;
    const end = text.lastIndexOf('\n') + 1;
    if (end <= this.eventsOffset) return;
    const lines = text.slice(this.eventsOffset, end).split('\n').filter(Boolean);
    this.eventsOffset = end;
    for (const line of lines) {
      const [from, what, arg] = line.split(' ');
      const job = this.react(from!, what!, arg).catch((err) => {
        console.error(`sshd harness: reacting to "${line}" failed:`, err);
      });
      this.pending.add(job);
      void job.finally(() => this.pending.delete(job));
    }
  }

  private async react(from: string, what: string, arg?: string): Promise<void> {
    if (what === 'reboot') {
      const host = this.host(from);
      await sleep(100); // let `systemctl reboot` return first, as the real one does
      await host.stop();
      rmSync(path.join(host.stateDir, 'boot_id'), { force: true }); // a new boot, a new boot id (host-bin/cat)
      const nextBoot = path.join(host.stateDir, 'next-boot');
      if (existsSync(nextBoot)) {
        // The one-time entry boots the installer: a fresh system with a new host key and no state.
        rmSync(nextBoot);
        host.reinstalled();
      }
      await sleep(this.options.rebootDownMs);
      await host.start();
    } else if (what === 'destroy' && arg && this.hosts.has(arg)) {
      await this.host(arg).stop();
    } else if (what === 'install' && arg && this.hosts.has(arg)) {
      const guest = this.host(arg);
      await guest.stop();
      rmSync(path.join(guest.stateDir, 'boot_id'), { force: true });
      guest.reinstalled();
      await sleep(this.options.installDownMs);
      await guest.start();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.poller);
    await Promise.allSettled([...this.pending]);
    await Promise.all([...this.hosts.values()].map((h) => h.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts one sshd per host on 127.A.B.(1+i), with A and B random so parallel test files do not collide. */
export async function startSshdFleet(specs: SimHostSpec[], options: SshdFleetOptions = {}): Promise<SshdFleet> {
  const fleet = new SshdFleet(options);
  try {
    const prefix = await freeLoopbackPrefix(specs.length);
    for (const [i, spec] of specs.entries()) await fleet.add(spec, `${prefix}.${i + 1}`);
    fleet.watch();
    return fleet;
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}

/** A random 127.A.B prefix none of whose first `n` addresses has anything listening on port 22. */
async function freeLoopbackPrefix(n: number): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const prefix = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
    const busy = await Promise.all(Array.from({ length: n }, (_, i) => canConnect(`${prefix}.${i + 1}`, 22)));
    if (!busy.some(Boolean)) return prefix;
  }
  throw new Error('no free 127.x.y prefix found');
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** A process and all its descendants (children first), from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(root);
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
