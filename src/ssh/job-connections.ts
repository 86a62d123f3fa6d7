/**
 * One job's SSH connections: a step that knows the host stays up hands its connection on with
 * `close({ keep: true })`, and the job's next `connect` to that host reuses it instead of a new login. A connection
 * that issued a reboot is never kept; one nobody takes within `idleMs` is closed; `closeAll` ends the lot.
 */
import type { ConnectOptions, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from './types';

/**
 * The steps that hand their connection on: stage-installer before the reboot into the installer, wait-ssh before
 * post-install, post-install before its reboot, the wait after that reboot before verify. Anything else closes for
 * real: a connection that issued a reboot is never kept, so a wait for the host to come back always logs in anew.
 * A kept connection the host dropped, or one nobody took within `idleMs`, is closed.
 */
export class JobConnections implements RemoteConnector {
  private readonly kept = new Map<string, { remote: RemoteHost; timer: NodeJS.Timeout }>();
  /** Logins saved by reuse (for tests and the log). */
  reused = 0;

  constructor(
    private readonly inner: RemoteConnector,
    private readonly idleMs = 30_000,
  ) {}

  async connect(target: HostTarget, options: ConnectOptions): Promise<RemoteHost> {
    const key = keyOf(target);
    const kept = this.kept.get(key);
    if (kept) {
      this.kept.delete(key);
      clearTimeout(kept.timer);
      // A pinned connect takes only a connection whose host presented that very key.
      const keyFits = options.pin === undefined || kept.remote.hostKey === options.pin;
      if (kept.remote.open !== false && !options.signal?.aborted && keyFits) {
        this.reused++;
        return this.handOut(kept.remote);
      }
      await kept.remote.close();
    }
    return this.handOut(await this.inner.connect(target, options));
  }

  probe(target: HostTarget, options: ConnectOptions & { timeoutMs: number; depth?: 'tcp' | 'handshake' }): Promise<ProbeResult> {
    return this.inner.probe(target, options);
  }

  knownHostKeys(target: HostTarget): Promise<string[]> {
    return this.inner.knownHostKeys ? this.inner.knownHostKeys(target) : Promise.resolve([]);
  }

  /** Closes every kept connection (the job stopped: finished, failed, cancelled or shut down). */
  async closeAll(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    for (const k of all) clearTimeout(k.timer);
    await Promise.all(all.map((k) => k.remote.close()));
  }

  /** The connection as the step sees it: its `close({ keep: true })` puts it back here instead. */
  private handOut(remote: RemoteHost): RemoteHost {
    let released = false;
    return {
      target: remote.target,
      hostKey: remote.hostKey,
      get open() {
        return !released && remote.open !== false;
      },
      exec: (command, options) => remote.exec(command, options),
      writeFile: (file, content, options) => remote.writeFile(file, content, options),
      readFile: (file) => remote.readFile(file),
      close: async (options) => {
        if (released) return;
        released = true;
        if (options?.keep && remote.open !== false) this.keep(remote);
        else await remote.close();
      },
    };
  }

  private keep(remote: RemoteHost): void {
    const key = keyOf(remote.target);
    const previous = this.kept.get(key);
    if (previous) {
      clearTimeout(previous.timer);
      void previous.remote.close();
    }
    const timer = setTimeout(() => {
      if (this.kept.get(key)?.remote !== remote) return;
      this.kept.delete(key);
      void remote.close();
    }, this.idleMs);
    timer.unref();
    this.kept.set(key, { remote, timer });
  }
}

function keyOf(target: HostTarget): string {
  return `${target.address}\u0000${target.port}`;
}
