/**
 * One SSH connection per host that stays up while jobs come and go (a virthost), shared as leases by every job that
 * asks for it (`connect(target, { shared: true })`), as OpenSSH's ControlMaster would; closed once no lease held it
 * for `idleMs`. Past `maxLeases` (sshd's MaxSessions) a caller gets a connection of its own. Never for builders.
 */
import { abortReason } from '../errors';
import { SshConnectError } from './errors';
import type { ConnectOptions, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from './types';

export interface SharedConnectionsOptions {
  /** How long a connection no lease holds stays open for the next caller. Default 60 s. */
  idleMs?: number;
  /** Leases of one connection at once; the next caller gets a connection of its own. Default 8. */
  maxLeases?: number;
}

interface Entry {
  ready: Promise<RemoteHost>;
  remote?: RemoteHost;
  leases: number;
  idle?: NodeJS.Timeout;
  /** closeAll ran: a connection still being opened is closed as soon as it is up. */
  closed?: boolean;
}

/**
 * Each caller gets a lease; commands of different leases run side by side on their own channels. A connection the
 * host dropped is replaced at the next connect; a lease never outlives its caller's `close`. Only for hosts rekick
 * never reboots or reinstalls: everything else (the builders) connects as before, one connection per caller.
 */
export class SharedConnections implements RemoteConnector {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly maxLeases: number;
  /** Connections opened for shared use, and leases handed out (for tests). */
  opened = 0;
  leased = 0;

  constructor(
    private readonly inner: RemoteConnector,
    options: SharedConnectionsOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    this.maxLeases = options.maxLeases ?? 8;
  }

  async connect(target: HostTarget, options: ConnectOptions): Promise<RemoteHost> {
    if (!options.shared || options.hostKeyMode !== 'strict' || options.pin !== undefined) return this.inner.connect(target, options);
    if (options.signal?.aborted) throw abortReason(options.signal);
    const key = keyOf(target);
    let entry = this.entries.get(key);
    if (entry?.remote && entry.remote.open === false) {
      this.drop(key, entry);
      entry = undefined;
    }
    if (entry && entry.leases >= this.maxLeases) return this.inner.connect(target, options);
    if (!entry) entry = this.open(key, target);
    entry.leases++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    let remote: RemoteHost;
    try {
      remote = await untilAborted(entry.ready, options.signal);
    } catch (err) {
      this.release(key, entry);
      throw err;
    }
    this.leased++;
    return this.lease(key, entry, remote);
  }

  probe(target: HostTarget, options: ConnectOptions & { timeoutMs: number; depth?: 'tcp' | 'handshake' }): Promise<ProbeResult> {
    return this.inner.probe(target, options);
  }

  knownHostKeys(target: HostTarget): Promise<string[]> {
    return this.inner.knownHostKeys ? this.inner.knownHostKeys(target) : Promise.resolve([]);
  }

  /** Closes every shared connection (rekick is stopping); leases still held fail their next command. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      e.closed = true;
      if (e.idle) clearTimeout(e.idle);
    }
    await Promise.all(all.map((e) => e.remote?.close()));
  }

  /**
   * The connection is opened without the first caller's signal: other callers may wait on it, and a caller that
   * gives up stops waiting (untilAborted) without failing theirs. The connector's own timeout bounds it.
   */
  private open(key: string, target: HostTarget): Entry {
    const entry: Entry = { ready: this.inner.connect(target, { hostKeyMode: 'strict' }), leases: 0 };
    this.entries.set(key, entry);
    this.opened++;
    entry.ready.then(
      (remote) => {
        entry.remote = remote;
        if (entry.closed) void remote.close();
        // Everyone who waited gave up meanwhile: nobody will release it, so start its idle time now.
        else if (entry.leases === 0) this.idleLater(key, entry);
      },
      () => {
        // Each waiter gets the error from its own await; the next connect tries anew.
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry;
  }

  private lease(key: string, entry: Entry, remote: RemoteHost): RemoteHost {
    let released = false;
    const live = () => {
      if (released) throw new SshConnectError(remote.target.name, 'this job had given its shared connection back already');
    };
    return {
      target: remote.target,
      hostKey: remote.hostKey,
      get open() {
        return !released && remote.open !== false;
      },
      exec: async (command, options) => (live(), remote.exec(command, options)),
      writeFile: async (file, content, options) => (live(), remote.writeFile(file, content, options)),
      readFile: async (file) => (live(), remote.readFile(file)),
      close: async () => {
        if (released) return;
        released = true;
        this.release(key, entry);
      },
    };
  }

  private release(key: string, entry: Entry): void {
    entry.leases = Math.max(0, entry.leases - 1);
    if (this.entries.get(key) !== entry) {
      // Replaced (the host dropped it) or closed by closeAll: the last lease out closes it.
      if (entry.leases === 0) void entry.remote?.close();
      return;
    }
    if (entry.remote?.open === false) this.drop(key, entry);
    else if (entry.leases === 0 && entry.remote) this.idleLater(key, entry);
  }

  private idleLater(key: string, entry: Entry): void {
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = setTimeout(() => {
      if (this.entries.get(key) !== entry || entry.leases > 0) return;
      this.entries.delete(key);
      void entry.remote?.close();
    }, this.idleMs);
    entry.idle.unref();
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    if (entry.idle) clearTimeout(entry.idle);
    if (entry.leases === 0) void entry.remote?.close();
  }
}

/** The promise, or the signal's reason once it aborts (the promise goes on for others). */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function keyOf(target: HostTarget): string {
  return `${target.name}\u0000${target.address}\u0000${target.port}`;
}
