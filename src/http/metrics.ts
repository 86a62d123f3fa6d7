/**
 * Prometheus metrics (prom-client): per host the last successful reinstall and the Koji enabled state, jobs by
 * outcome, step durations by step, jobs in flight, approvals waiting and their age, the rolling run's counts, Koji
 * call errors, chat messages sent and queued, refusals from outside. Gauges read the store when scraped, so they
 * cannot drift.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../../store/store';
import type { Config } from '../config/schema';
import type { ExecutorApi } from '../executor/types';
import type { KojiHostStates } from '../koji/host-states';
import { ACTIVE_JOB_STATES, FINISHED_JOB_STATES } from '../model';
import { CHAT_LINE_REASONS, OUTSIDE_REASONS } from '../audit/audit-kind';
import type { OutsideRefusalTotal } from '../audit/outside-refusals';

export interface MetricsOptions {
  config: Config;
  store: Store;
  executor: ExecutorApi;
  hostStates?: KojiHostStates;
  /** Chat adapters' queue depth, by adapter name. */
  chatQueued?: () => Record<string, number>;
  /** Refusals from outside, counted (the executor's outsideRefusals). */
  outsideRefusals?: { counts(): OutsideRefusalTotal[] };
}

export interface Metrics {
  registry: Registry;
  kojiErrors: Counter<'method'>;
  chatSent: Counter<'adapter'>;
  /** Chat lines refused by a sender's rate limit (counted here, not audited). */
  chatRateLimited: Counter<'adapter'>;
  stop(): void;
}

export function createMetrics(o: MetricsOptions): Metrics {
  const registry = new Registry();
  hostGauges(registry, o);
  const { jobsTotal, stepSeconds } = jobMetrics(registry, o);
  rollingGauge(registry, o);
  const { kojiErrors, chatSent, chatRateLimited } = callAndChatMetrics(registry, o);
  outsideRefusalsCounter(registry, o);
  const unsubscribe = o.executor.on((e) => {
    if (e.type === 'step-succeeded') stepSeconds.observe({ step: e.step }, e.durationMs / 1000);
    if (e.type === 'enabled') jobsTotal.inc({ outcome: 'succeeded' });
    if (e.type === 'step-failed') jobsTotal.inc({ outcome: 'failed' });
    if (e.type === 'cancelled') jobsTotal.inc({ outcome: 'cancelled' });
    if (e.type === 'denied') jobsTotal.inc({ outcome: 'denied' });
  });
  return { registry, kojiErrors, chatSent, chatRateLimited, stop: unsubscribe };
}

/** Per host: when it was last reinstalled, and whether Koji has it enabled. */
function hostGauges(registry: Registry, o: MetricsOptions): void {
  new Gauge({
    name: 'rekick_host_last_reinstall_timestamp_seconds',
    help: 'Unix time of the last successful reinstall of each host (absent when never)',
    labelNames: ['host', 'arch'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of o.config.hosts) {
        const at = o.store.getHost(h.name)?.lastReinstalledAt;
        if (at) this.set({ host: h.name, arch: h.arch }, Date.parse(at) / 1000);
      }
    },
  });
  new Gauge({
    name: 'rekick_host_koji_enabled',
    help: 'Whether the host is enabled in Koji (1) or not (0), as last seen',
    labelNames: ['host'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of o.config.hosts.filter((x) => x.kind !== 'virthost')) {
        const s = o.hostStates?.get(h.name);
        if (s) this.set({ host: h.name }, s.enabled ? 1 : 0);
      }
    },
  });
}

/** Jobs: ended by outcome, step durations, in flight by state, approvals waiting and the oldest wait. */
function jobMetrics(registry: Registry, o: MetricsOptions): { jobsTotal: Counter<'outcome'>; stepSeconds: Histogram<'step'> } {
  const jobsTotal = new Counter({ name: 'rekick_jobs_total', help: 'Jobs that ended, by outcome', labelNames: ['outcome'], registers: [registry] });
  for (const s of FINISHED_JOB_STATES) jobsTotal.inc({ outcome: s }, 0);
  const stepSeconds = new Histogram({
    name: 'rekick_step_duration_seconds',
    help: 'Duration of successful steps, by step',
    labelNames: ['step'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [registry],
  });
  new Gauge({
    name: 'rekick_jobs_in_flight',
    help: 'Jobs not finished, by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of ACTIVE_JOB_STATES) this.set({ state: s }, o.store.listJobs({ states: [s] }).length);
    },
  });
  new Gauge({
    name: 'rekick_approvals_waiting',
    help: 'Hosts waiting for approval',
    registers: [registry],
    collect() {
      this.set(o.executor.queue().length);
    },
  });
  new Gauge({
    name: 'rekick_approval_oldest_wait_seconds',
    help: 'How long the oldest waiting approval has waited',
    registers: [registry],
    collect() {
      const [oldest] = o.executor.queue();
      this.set(oldest ? (Date.now() - Date.parse(oldest.updatedAt)) / 1000 : 0);
    },
  });
  return { jobsTotal, stepSeconds };
}

/** The rolling run's hosts by state. */
function rollingGauge(registry: Registry, o: MetricsOptions): void {
  new Gauge({
    name: 'rekick_rolling_hosts',
    help: "The rolling run's hosts, by state (done, failed, in_flight, left)",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const run = o.store.getRolling();
      if (!run) return;
      const inFlight = Object.entries(run.jobs).filter(([, id]) => {
        const j = o.store.getJob(id);
        return j && ACTIVE_JOB_STATES.includes(j.state);
      }).length;
      this.set({ state: 'done' }, run.done.length);
      this.set({ state: 'failed' }, run.failed.length);
      this.set({ state: 'in_flight' }, inFlight);
      this.set({ state: 'left' }, run.order.length - Object.keys(run.jobs).length);
    },
  });
}

/** Koji calls that failed, and chat messages sent, rate-limited and queued. */
function callAndChatMetrics(registry: Registry, o: MetricsOptions): Pick<Metrics, 'kojiErrors' | 'chatSent' | 'chatRateLimited'> {
  const kojiErrors = new Counter({ name: 'rekick_koji_call_errors_total', help: 'Koji calls that failed, by method', labelNames: ['method'], registers: [registry] });
  const chatSent = new Counter({ name: 'rekick_chat_messages_sent_total', help: 'Chat messages handed to adapters, by adapter', labelNames: ['adapter'], registers: [registry] });
  const chatRateLimited = new Counter({
    name: 'rekick_chat_rate_limited_total',
    help: "Chat lines ignored because their sender was over the command rate limit (chat.rateLimit), by adapter",
    labelNames: ['adapter'],
    registers: [registry],
  });
  new Gauge({
    name: 'rekick_chat_messages_queued',
    help: 'Chat messages waiting to be sent (paced or disconnected), by adapter',
    labelNames: ['adapter'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [adapter, n] of Object.entries(o.chatQueued?.() ?? {})) this.set({ adapter }, n);
    },
  });

  return { kojiErrors, chatSent, chatRateLimited };
}

/** Requests and chat lines refused from outside, at 0 from the start for the configured sources. */
function outsideRefusalsCounter(registry: Registry, o: MetricsOptions): void {
  // Shown at 0 from the start for the sources configured, so that a rate() alert has a series to work on.
  const zeroes = [
    ...(o.config.slack ? OUTSIDE_REASONS.filter((r) => !CHAT_LINE_REASONS.includes(r)).map((reason) => ({ source: 'slack', reason })) : []),
    ...(o.config.irc ? CHAT_LINE_REASONS.map((reason) => ({ source: 'irc', reason })) : []),
  ];
  new Counter({
    name: 'rekick_outside_refusals_total',
    help: 'Requests and chat lines refused without an identity rekick can trust (counted, not stored one by one), by source and reason',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of zeroes) this.inc(z, 0);
      for (const t of o.outsideRefusals?.counts() ?? []) this.inc({ source: t.source, reason: t.reason }, t.count);
    },
  });

}
