/**
 * What rekick knows of each host's Koji state (enabled, comment), for !hosts, metrics and the status page:
 * refreshed from the hub now and then (one listHosts call for the fleet) and updated at once by the executor's
 * own events. Also tells whether the hub answered lately (/readyz).
 */
import type { Logger } from 'pino';
import type { ExecutorApi } from '../executor/types';
import type { KojiClient } from './types';

export interface HostKojiState {
  enabled: boolean;
  comment: string | null;
  at: string;
}

export class KojiHostStates {
  private readonly states = new Map<string, HostKojiState>();
  private timer?: NodeJS.Timeout;
  private lastOk = 0;
  private lastError?: string;

  constructor(
    private readonly koji: KojiClient,
    private readonly log: Logger,
    private readonly refreshMs = 60_000,
  ) {}

  get(host: string): HostKojiState | undefined {
    return this.states.get(host);
  }

  /** Whether the hub answered within the last two refresh periods. */
  reachable(): boolean {
    return Date.now() - this.lastOk < this.refreshMs * 2 + 5_000;
  }

  lastFailure(): string | undefined {
    return this.lastError;
  }

  follow(executor: ExecutorApi): () => void {
    // Every executor event passes here (a few dozen per host): the time is taken only for the two that matter.
    return executor.on((e) => {
      if (e.type === 'step-succeeded' && e.step === 'disable') this.states.set(e.job.host, { enabled: false, comment: e.job.kojiComment ?? null, at: new Date().toISOString() });
      if (e.type === 'enabled') this.states.set(e.job.host, { enabled: true, comment: null, at: new Date().toISOString() });
    });
  }

  async refresh(): Promise<void> {
    try {
      const hosts = await this.koji.listHosts();
      const at = new Date().toISOString();
      for (const h of hosts) this.states.set(h.name, { enabled: h.enabled, comment: h.comment, at });
      this.lastOk = Date.now();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.log.warn({ err }, 'could not refresh host states from Koji');
    }
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
