/**
 * One simulated host: a real SSH server (ssh2) on loopback with its own ed25519 host key, accepting one client
 * public key, running exec requests through the simulated shell and serving SFTP, plus its power states.
 *
 * `systemctl reboot` acknowledges, drops every connection and stops listening; after `rebootDelayMs` it listens
 * again on the same port. When grub2-reboot chose an entry whose args hold `inst.ks=`, the reboot is an install:
 * after `installDelayMs` it returns with a new host key and a fresh-install machine (a new /etc/machine-id) — unless
 * the `skip-install` fault is on: then the old system boots again.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import ssh2, { type ParsedKey } from 'ssh2';
import { CodedError } from '../../src';
import { corePrograms } from '../shell/programs-core';
import { systemPrograms } from '../shell/programs-system';
import { virtPrograms } from '../shell/programs-virt';
import { FaultSet, type ClearFault, type Fault } from './sim-faults';
import type { SimHostApi, SimLibvirt } from './sim-host-api';
import { SimMachine, type SimRole } from './sim-machine';
import { SimSshd } from './sim-sshd';
import { randomStablePort } from '../loopback';
import { generateEd25519KeyPair } from './ssh-keys';
import type { Program } from '../shell/shell-run';

const { utils } = ssh2; // ssh2 is CommonJS: Node's ESM loader sees only some of its named exports

export interface SimHostKey {
  /** OpenSSH private key (PEM). */
  private: string;
  /** `ssh-ed25519 AAAA...` */
  public: string;
  /** OpenSSH's SHA256 fingerprint: `SHA256:` + unpadded base64. */
  fingerprint: string;
}

export function generateHostKey(comment = 'rekick-sim'): SimHostKey {
  const pair = generateEd25519KeyPair(comment);
  return { private: pair.private, public: pair.public.split(' ').slice(0, 2).join(' '), fingerprint: pair.fingerprint };
}

/** Parses the one client public key the sims accept (OpenSSH `ssh-ed25519 AAAA...` line or PEM). */
export function parseClientKey(key: string | Buffer | ParsedKey): ParsedKey {
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) return key;
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw new CodedError('E_SIM_KEY', `the simulated hosts' client public key cannot be read: ${parsed.message}`);
  return Array.isArray(parsed) ? parsed[0]! : parsed;
}

/** One thing that happened on a host: an exec request, an SFTP change, or a power event. */
export interface SimRecord {
  at: number;
  host: string;
  kind: 'exec' | 'sftp' | 'power';
  command: string;
  /** exec: the exit status (null while running or when the connection dropped first). */
  code?: number | null;
}

export type PowerState = 'up' | 'down' | 'off';

export interface SimHostOptions {
  name: string;
  role: SimRole;
  arch?: string;
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0: a free port below the system's ephemeral range (loopback.ts), kept across reboots. */
  port?: number;
  clientKey: string | Buffer | ParsedKey;
  /** The user the client logs in as (default root). */
  user?: string;
  rebootDelayMs?: number;
  installDelayMs?: number;
  hostKey?: SimHostKey;
  /** The state at start: a host in service (default) or a fresh install. */
  initial?: 'configured' | 'fresh';
  logger?: pino.Logger;
  onRecord?: (record: SimRecord) => void;
  /** Records kept per host (oldest dropped); default 500. */
  keepRecords?: number;
}

/** How long after acknowledging `systemctl reboot` the connections drop (the exit status gets out first). */
const REBOOT_ACK_MS = 20;

export class SimHost extends EventEmitter implements SimHostApi {
  readonly name: string;
  readonly role: SimRole;
  readonly arch: string;
  readonly address: string;
  port: number;
  hostKey: SimHostKey;
  state: PowerState = 'off';
  readonly records: SimRecord[] = [];
  /** Logins accepted (public key with a valid signature): handshake-only probes do not count. */
  logins = 0;
  /** Completed boots and installs since start (tests wait on them). */
  boots = 0;
  installs = 0;
  libvirt?: SimLibvirt;
  rebootDelayMs: number;
  installDelayMs: number;

  readonly log: pino.Logger;
  readonly user: string;
  readonly clientKey: ParsedKey;
  private readonly onRecord?: (record: SimRecord) => void;
  private readonly keepRecords: number;
  readonly faults: FaultSet;
  private readonly initial: 'configured' | 'fresh';
  private machineState?: SimMachine;
  private readonly sshd: SimSshd = new SimSshd(this);
  private listener?: net.Server;
  private listenChain: Promise<void> = Promise.resolve();
  private pendingBoot?: 'boot' | 'install';
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(options: SimHostOptions) {
    super();
    this.name = options.name;
    this.role = options.role;
    this.arch = options.arch ?? 'x86_64';
    this.address = options.address ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.user = options.user ?? 'root';
    this.clientKey = parseClientKey(options.clientKey);
    this.hostKey = options.hostKey ?? generateHostKey(options.name);
    this.rebootDelayMs = options.rebootDelayMs ?? 3_000;
    this.installDelayMs = options.installDelayMs ?? 6_000;
    this.initial = options.initial ?? 'configured';
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ sim: options.name });
    this.onRecord = options.onRecord;
    this.keepRecords = options.keepRecords ?? 500;
    this.faults = new FaultSet(() => this.faultsChanged());
  }

  /** The host's machine, made on first use so that a large idle fleet stays small. */
  get machine(): SimMachine {
    return (this.machineState ??= this.initial === 'fresh' ? SimMachine.fresh(this.role, this.arch) : SimMachine.configured(this.role, this.arch, this.name));
  }

  /** Exec command lines run so far, oldest first. */
  get commands(): string[] {
    return this.records.filter((r) => r.kind === 'exec').map((r) => r.command);
  }

  /** OpenSSH known_hosts line for the current host key. */
  knownHostsLine(): string {
    const host = this.port === 22 ? this.address : `[${this.address}]:${this.port}`;
    return `${host} ${this.hostKey.public}`;
  }

  /** Powers on and listens; resolves once the port is bound. */
  async start(): Promise<void> {
    this.state = 'up';
    await this.syncListening();
  }

  /** Stops for good: timers cleared, connections dropped, port released. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dropConnections();
    await this.syncListening();
  }

  /** Injects a fault; the function returned clears it. */
  inject(fault: Fault): ClearFault {
    return this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Resolves when the host has completed `count` more boots (or installs with `install: true`). */
  waitForBoot(options: { install?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => this.once(options.install ? 'installed' : 'booted', () => resolve()));
  }

  // --- SimHostApi, for the programs ------------------------------------------------------------------------

  requestReboot(): void {
    this.record('power', 'reboot requested');
    setTimeout(() => {
      if (this.stopped || this.state !== 'up') return;
      const m = this.machine;
      const entry = m.nextEntry !== undefined ? m.findEntry(m.nextEntry) : undefined;
      m.nextEntry = undefined;
      const install = !!entry && /(^|\s)inst\.ks=\S/.test(entry.args);
      this.goDown('down');
      this.bootAfter(install ? 'install' : 'boot', install ? this.installDelayMs : this.rebootDelayMs);
    }, REBOOT_ACK_MS);
  }

  curlFailure(url: string): { code: number; message: string } | undefined {
    const f = this.faults.takeCurlFault(url);
    if (!f) return undefined;
    return { code: f.code ?? 22, message: f.message ?? 'The requested URL returned error: 404' };
  }

  // --- power -----------------------------------------------------------------------------------------------

  /** Cuts power now (virsh destroy): connections drop, nothing listens, a pending boot is cancelled. */
  powerOff(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingBoot = undefined;
    this.goDown('off');
  }

  /** Starts a fresh install now (virt-install): the host comes back after installDelayMs with a new key. */
  startInstall(): void {
    this.powerOff();
    this.bootAfter('install', this.installDelayMs);
  }

  protected goDown(state: 'down' | 'off'): void {
    this.state = state;
    this.record('power', state === 'off' ? 'powered off' : 'going down');
    this.dropConnections();
    this.background(this.syncListening(), 'stop listening');
    this.emit('down');
  }

  private bootAfter(mode: 'boot' | 'install', delayMs: number): void {
    this.pendingBoot = mode;
    this.state = 'down';
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.background(this.finishBoot(), 'boot');
    }, delayMs);
  }

  private async finishBoot(): Promise<void> {
    if (this.stopped || !this.pendingBoot) return;
    if (this.faults.has('no-return')) {
      this.record('power', 'boot hangs (fault no-return)');
      return; // stays pending; clearing the fault finishes it
    }
    let mode = this.pendingBoot;
    this.pendingBoot = undefined;
    if (mode === 'install' && this.faults.has('skip-install')) {
      this.record('power', 'the installer did not run (fault skip-install): the old system boots');
      mode = 'boot';
    }
    if (mode === 'install') {
      this.hostKey = generateHostKey(this.name);
      this.sshd.rekeyed();
      this.machineState = SimMachine.fresh(this.role, this.arch);
    } else {
      this.machine.boot();
    }
    this.state = 'up';
    await this.syncListening();
    this.boots++;
    if (mode === 'install') this.installs++;
    this.record('power', mode === 'install' ? `installed, new host key ${this.hostKey.fingerprint}` : 'booted');
    this.emit('booted');
    if (mode === 'install') this.emit('installed');
  }

  private faultsChanged(): void {
    this.background(this.syncListening(), 'apply faults to the listener');
    if (this.pendingBoot && !this.timer && !this.faults.has('no-return') && this.state === 'down') this.background(this.finishBoot(), 'boot');
  }

  // --- listening -------------------------------------------------------------------------------------------

  /** Listens exactly when the host is up and no `refuse` fault is active; serialized. */
  private syncListening(): Promise<void> {
    const next = this.listenChain.then(() => this.applyListening());
    // A failure is reported to the caller; the chain itself carries on for later changes.
    this.listenChain = next.catch(() => undefined);
    return next;
  }

  /** Work started from a timer or a fault change: a failure is logged and recorded, the host stays down. */
  private background(work: Promise<void>, what: string): void {
    work.catch((err: unknown) => {
      this.log.error({ err }, `simulated host could not ${what}`);
      this.record('power', `could not ${what}: ${(err as Error).message}`);
    });
  }

  private async applyListening(): Promise<void> {
    const want = !this.stopped && this.state === 'up' && !this.faults.has('refuse');
    if (want && !this.listener) {
      const server = net.createServer((socket) => this.sshd.accept(socket));
      await this.listen(server);
      this.listener = server;
      this.port = (server.address() as net.AddressInfo).port;
    } else if (!want && this.listener) {
      const server = this.listener;
      this.listener = undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        this.dropConnections();
      });
    }
  }

  /**
   * Binds the host's port: at first start a free one below the system's ephemeral range (see loopback.ts), then
   * the same one after every reboot (retried briefly while the old socket lets go).
   */
  private async listen(server: net.Server): Promise<void> {
    const choosing = this.port === 0;
    for (let attempt = 0; ; attempt++) {
      const port = choosing ? randomStablePort() : this.port;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host: this.address }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (err) => this.log.error({ err }, 'simulated sshd listener failed'));
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 40) {
          throw new CodedError('E_SIM_LISTEN', `simulated host ${this.name} cannot listen on ${this.address}:${port}: ${(err as Error).message}`, { cause: err });
        }
        if (!choosing) await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private dropConnections(): void {
    this.sshd.dropConnections();
  }

  // --- SSH -------------------------------------------------------------------------------------------------

  /** The programs the host's shell runs (the SSH server adds `kill`). */
  programs(): Map<string, Program> {
    const all = new Map([...corePrograms(this), ...systemPrograms(this)]);
    if (this.libvirt) for (const [k, v] of virtPrograms(this.libvirt)) all.set(k, v);
    return all;
  }

  loginAccepted(): void {
    this.logins++;
  }

  record(kind: SimRecord['kind'], command: string): SimRecord {
    const r: SimRecord = { at: Date.now(), host: this.name, kind, command };
    this.records.push(r);
    if (this.records.length > this.keepRecords) this.records.splice(0, this.records.length - this.keepRecords);
    this.onRecord?.(r);
    return r;
  }
}
