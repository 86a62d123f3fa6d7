/**
 * The rolling scheduler, in kured's loop shape: first resume what it holds (the run in the store), then on every
 * pass: bring the run up to date with the store's jobs -> window -> due hosts -> capacity -> start. Slots belong to
 * jobs in the store (a host of the run with an active job, waiting for approval included, is in flight), never to
 * a lease that could leak when rekick dies. Passes run one at a time: after the executor events about the run's
 * hosts that can change a decision (PASS_EVENTS), every `tickMs`, and after each command.
 */
import { randomBytes } from 'node:crypto';
import { UserError, toCodedError } from '../errors';
import type { RequestContext } from '../executor/types';
import type { HostConfig } from '../config/schema';
import type { RollingStartOptions } from './types';
import { ACTIVE_JOB_STATES, type AuditEntry, type ExecutorEvent, type Identity, type Job, type RollingRun } from '../model';
import { guestsOf } from '../executor/virthost-guests';
import { pickHosts, slotsFor } from './capacity';
import { dueHosts } from './due-hosts';
import { estimateRunMs, formatDuration, runEtaMs, runTypicalDuration } from './estimate';
import { createRun } from './new-run';
import { dueAt } from './order';
import { reconcileRun, type HostEnding } from './reconcile';
import { renderBudgetPause, renderCounts, renderProgress, renderStart, renderStatus, renderSummary } from './render';
import { activeJobsByHost, tallyRun, type RollingTally } from './tally';
import type { RollingScheduler, RollingSchedulerOptions } from './types';
import type { Frozen } from '../../store/store';
import { parseWindow, type RollingWindow } from './window';

/** Who the scheduler is in jobs, approvals and the audit trail. */
export const ROLLING_IDENTITY: Identity = { source: 'rolling', id: 'rekick', display: 'rolling' };

const LIVE: ReadonlyArray<RollingRun['state']> = ['running', 'paused'];

/**
 * The executor events that can change what a pass decides: a job that started, waits for approval or ended (a slot
 * freed, a failure to count). A step starting, progressing or succeeding changes none of it, and a pass reads the
 * whole fleet: at 1,000 hosts, passing on every step event was most of the scheduler's CPU.
 */
const PASS_EVENTS: ReadonlySet<ExecutorEvent['type']> = new Set(['job-queued', 'step-failed', 'awaiting-approval', 'denied', 'enabled', 'cancelled']);

export function createRollingScheduler(options: RollingSchedulerOptions): RollingScheduler {
  return new Scheduler(options);
}

class Scheduler implements RollingScheduler {
  private readonly o: RollingSchedulerOptions;
  private readonly clock: () => Date;
  private readonly window: RollingWindow | undefined;
  private readonly progressEveryMs: number;
  private run: RollingRun | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private lastCounts: string | undefined;
  /** Jobs the executor would not approve automatically (said once each). */
  private readonly notAutoApproved = new Set<string>();

  constructor(options: RollingSchedulerOptions) {
    this.o = options;
    this.clock = options.clock ?? (() => new Date());
    this.window = options.config.rolling.window ? parseWindow(options.config.rolling.window) : undefined;
    this.progressEveryMs = options.progressEveryMs ?? 5 * 60_000;
  }

  // ---- lifecycle ----

  async activate(): Promise<void> {
    if (this.unsubscribe && !this.closed) return;
    this.closed = false;
    this.run = this.o.store.getRolling();
    const run = this.run;
    if (run && LIVE.includes(run.state)) {
      // Hosts that ended while rekick was down count at once (said in the line below, not one by one).
      if (reconcileRun(run, this.o.store).changed) await this.save();
      const t = tallyRun(run, this.o.store);
      this.lastCounts = renderCounts(run, t);
      this.o.log.info({ run: run.id, state: run.state }, 'resuming the rolling run held in the store');
      this.notify(`rolling ${run.id} resumed after a restart (${run.state}): ${this.lastCounts}`);
    }
    this.unsubscribe = this.o.executor.on((e) => this.onEvent(e));
    this.timer = setInterval(() => void this.kick(), this.o.tickMs ?? 30_000);
    this.timer.unref();
    await this.tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.settled();
  }

  async tick(): Promise<void> {
    await this.kick();
    await this.settled();
  }

  async settled(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.chain) {
      seen = this.chain;
      await seen;
    }
  }

  current(): RollingRun | undefined {
    return this.run ? structuredClone(this.run) : undefined;
  }

  // ---- RollingApi ----

  start(options: RollingStartOptions): Promise<string | void> {
    return this.serial(() => this.startRun(options));
  }

  pause(ctx: RequestContext): Promise<string | void> {
    return this.serial(async () => {
      const run = this.liveRun('pause');
      if (run.state === 'paused') throw new UserError(`rolling run ${run.id} is already paused; !rolling resume goes on`, 'E_ROLLING_PAUSED');
      run.state = 'paused';
      run.pausedReason = `paused by ${ctx.by.display}`;
      await this.save();
      const t = tallyRun(run, this.o.store);
      this.notify(`rolling ${run.id} paused by ${ctx.by.display}: no new hosts start; ${t.inFlight.length} in flight go on. ${renderCounts(run, t)}`, ctx);
    });
  }

  resume(ctx: RequestContext): Promise<string | void> {
    return this.serial(async () => {
      const run = this.liveRun('resume');
      if (run.state === 'running') throw new UserError(`rolling run ${run.id} is not paused`, 'E_ROLLING_RUNNING');
      run.state = 'running';
      run.pausedReason = undefined;
      run.acknowledgedFailures = run.failed.length;
      await this.save();
      const t = tallyRun(run, this.o.store);
      this.notify(`rolling ${run.id} resumed by ${ctx.by.display}: ${renderCounts(run, t)}; the failure budget counts afresh`, ctx);
      void this.kick();
    });
  }

  stop(ctx: RequestContext): Promise<string | void> {
    return this.serial(async () => {
      const run = this.liveRun('stop');
      reconcileRun(run, this.o.store);
      run.state = 'stopped';
      run.stoppedBy = ctx.by;
      run.endedAt = this.clock().toISOString();
      await this.save();
      const t = tallyRun(run, this.o.store);
      this.notify(renderSummary(run, t, this.elapsed(run)), ctx);
      await this.audit({ who: ctx.by, origin: ctx.origin, action: 'rolling-stop', outcome: 'ok', detail: `${run.id}: ${renderCounts(run, t)}` });
    });
  }

  status(): string[] {
    const run = this.run;
    if (!run) return [];
    const t = tallyRun(run, this.o.store);
    const now = this.clock();
    let waitingFor: string | undefined;
    if (this.window && run.state === 'running' && !this.window.contains(now)) {
      const next = this.window.nextOpen(now);
      waitingFor = `outside the window ${this.window.text}: no host starts until ${next ? next.toISOString() : 'the window opens'}`;
    }
    return renderStatus({
      run,
      tally: t,
      etaMs: runEtaMs(run, t, this.o.store),
      budget: this.o.config.rolling.failureBudget,
      waitingFor,
      nextDue: run.continuous && LIVE.includes(run.state) ? this.nextDueLine(run, t) : undefined,
    });
  }

  // ---- the loop ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private kick(): Promise<void> {
    if (this.closed || this.pending) return Promise.resolve();
    this.pending = true;
    return this.serial(async () => {
      this.pending = false;
      if (this.closed) return;
      try {
        await this.pass();
      } catch (err) {
        this.o.log.error({ err: toCodedError(err), run: this.run?.id }, 'rolling pass failed; the next pass tries again');
      }
    });
  }

  private onEvent(e: ExecutorEvent): void {
    const run = this.run;
    if (!run || !LIVE.includes(run.state) || e.type === 'notice' || !PASS_EVENTS.has(e.type)) return;
    if (e.job.options.rollingRunId === run.id || run.order.includes(e.job.host)) void this.kick();
  }

  private async pass(): Promise<void> {
    const run = this.run;
    if (!run || !LIVE.includes(run.state)) return;
    const store = this.o.store;
    const now = this.clock();
    const { ended, changed } = reconcileRun(run, store);
    const active = activeJobsByHost(store);
    if (!run.continuous) ended.push(...this.doneOutsideRun(run, active));
    let dirty = changed || ended.length > 0;

    if (this.o.config.rolling.autoApprove) await this.autoApprove(run, active);

    let t = tallyRun(run, store);
    const lines: Array<{ text: string; level: 'info' | 'warn' }> = [];
    if (ended.length) lines.push({ text: renderProgress(run, t, ended, runEtaMs(run, t, this.o.store)), level: ended.some((x) => x.outcome === 'failed') ? 'warn' : 'info' });

    if (!run.continuous && t.inFlight.length === 0 && t.left.length === 0) {
      run.state = 'finished';
      run.endedAt = now.toISOString();
      await this.save();
      for (const l of lines) this.notify(l.text, undefined, l.level);
      this.notify(renderSummary(run, t, this.elapsed(run)));
      await this.audit({ who: ROLLING_IDENTITY, origin: run.origin, action: 'rolling-finish', outcome: 'ok', detail: `${run.id}: ${renderCounts(run, t)}` });
      return;
    }

    const budget = this.o.config.rolling.failureBudget;
    run.acknowledgedFailures = Math.min(run.acknowledgedFailures ?? 0, run.failed.length);
    const fresh = run.failed.slice(run.acknowledgedFailures);
    if (run.state === 'running' && fresh.length >= budget) {
      run.state = 'paused';
      run.pausedReason = `${fresh.length} reinstall(s) failed (budget ${budget}): ${fresh.map((f) => f.host).join(', ')}`;
      dirty = true;
      lines.push({ text: renderBudgetPause(run, budget, fresh), level: 'warn' });
      await this.audit({ who: ROLLING_IDENTITY, origin: run.origin, action: 'rolling-pause', outcome: 'ok', detail: `${run.id}: ${run.pausedReason}` });
    }

    if (dirty) await this.save();
    if (run.state === 'running' && (await this.startDue(run, now))) t = tallyRun(run, store);

    const counts = renderCounts(run, t);
    const last = Date.parse(run.lastProgressAt ?? run.startedAt);
    if (!lines.length && counts !== this.lastCounts && now.getTime() - last >= this.progressEveryMs) {
      lines.push({ text: renderProgress(run, t, [], runEtaMs(run, t, this.o.store)), level: 'info' });
    }
    if (lines.length) {
      this.lastCounts = counts;
      run.lastProgressAt = now.toISOString();
      await this.save();
      for (const l of lines) this.notify(l.text, undefined, l.level);
    }
  }

  /** Window -> due hosts -> capacity -> start. Returns whether it started any. */
  private async startDue(run: RollingRun, now: Date): Promise<boolean> {
    if (this.window && !this.window.contains(now)) return false;
    const { executor, store, config } = this.o;
    const dueNames = dueHosts(run, store, config.rolling.cadence, now, this.guestsWithVirthost(run));
    const due = dueNames.map((h) => executor.host(h)).filter((h): h is HostConfig => h !== undefined);
    if (!due.length) return false;
    const active = store
      .peekJobs({ states: ACTIVE_JOB_STATES })
      .map((j) => executor.host(j.host))
      .filter((h): h is HostConfig => h !== undefined);
    const pick = pickHosts({
      due,
      active,
      runHosts: this.runHosts(run),
      slots: run.slots ?? slotsFor(run.fraction, run.order.length),
      maxPerArch: config.rolling.maxPerArch,
      maxPerVirthost: config.rolling.maxPerVirthost,
      fleet: config.hosts,
    });
    // Side by side, as approvals are: each host's job write shares the store's group commit instead of waiting
    // behind the previous host's, and the run records them all in one save. A crash before that save leaves jobs
    // the run never recorded; reconcileRun adopts them on the next pass.
    const results = await Promise.allSettled(
      pick.start.map((h) =>
        executor.reinstall({
          hosts: [h.name],
          by: ROLLING_IDENTITY,
          origin: run.origin,
          reason: `rolling run ${run.id} (started by ${run.startedBy.display})`,
          rollingRunId: run.id,
        }),
      ),
    );
    let started = false;
    let saidForAll = false;
    for (const [i, r] of results.entries()) {
      const h = pick.start[i]!;
      if (r.status === 'rejected') {
        if (!(r.reason instanceof UserError)) throw r.reason;
        // A read-only store or a stopping executor refuses every host alike: said once, not once per host.
        const whole = r.reason.code === 'E_STORE_READONLY' || r.reason.code === 'E_STOPPING';
        if (whole && saidForAll) continue;
        saidForAll ||= whole;
        this.o.log.warn({ run: run.id, host: h.name, code: r.reason.code }, `rolling could not start ${h.name}: ${r.reason.message}`);
        continue;
      }
      // A virthost's request queued its guests' jobs too: those of the run's hosts are the run's.
      for (const job of r.value) {
        if (job.host !== h.name && !run.order.includes(job.host)) continue;
        // The run is this scheduler's own copy (saveRolling copies it again): changed in place, not rebuilt per host.
        run.jobs[job.host] = job.id;
        (run.hostStartedAt ??= {})[job.host] = now.toISOString();
        const wasDone = run.done.indexOf(job.host);
        if (wasDone >= 0) run.done.splice(wasDone, 1);
        started = true;
      }
    }
    if (started) await this.save();
    return started;
  }

  /** One-shot runs: a host not yet started that someone reinstalled since the run began counts as done. */
  private doneOutsideRun(run: RollingRun, active: Map<string, Frozen<Job>>): HostEnding[] {
    const out: HostEnding[] = [];
    const since = Date.parse(run.startedAt);
    const failed = new Set(run.failed.map((f) => f.host));
    const done = new Set(run.done);
    for (const host of run.order) {
      if (run.jobs[host] || done.has(host) || failed.has(host) || active.has(host)) continue;
      const rec = this.o.store.peekHost(host);
      const at = Date.parse(rec?.lastReinstalledAt ?? '');
      if (rec?.lastOutcome === 'succeeded' && at >= since) {
        run.done.push(host);
        out.push({ host, outcome: 'done', message: 'reinstalled outside the run' });
      }
    }
    return out;
  }

  private async autoApprove(run: RollingRun, active: Map<string, Frozen<Job>>): Promise<void> {
    const waiting: Array<{ host: string; jobId: string }> = [];
    for (const host of run.order) {
      const job = active.get(host);
      if (!job || job.state !== 'awaiting-approval' || job.options.rollingRunId !== run.id || this.notAutoApproved.has(job.id)) continue;
      waiting.push({ host, jobId: job.id });
    }
    // Side by side: their durable writes share the store's group commit instead of waiting one after another
    // (one host at a time held every other host of the pass in awaiting-approval for seconds under a busy store).
    // Each by the job seen waiting: a later job of the host (say a person's !reinstall) is refused, never approved.
    const results = await Promise.allSettled(
      waiting.map(({ host, jobId }) =>
        this.o.executor.approve([host], { by: ROLLING_IDENTITY, origin: run.origin, auto: true, jobIds: { [host]: jobId } }),
      ),
    );
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      if (!(r.reason instanceof UserError)) throw r.reason;
      const { host, jobId } = waiting[i]!;
      this.notAutoApproved.add(jobId);
      this.notify(`rolling ${run.id}: ${host} was not approved automatically: ${r.reason.message}`, undefined, 'warn');
    }
  }

  // ---- starting a run ----

  private async startRun(options: RollingStartOptions): Promise<string | void> {
    const { executor, store, config } = this.o;
    if (this.run && LIVE.includes(this.run.state)) {
      const t = tallyRun(this.run, store);
      throw new UserError(`rolling run ${this.run.id} is ${this.run.state} (${renderCounts(this.run, t)}); !rolling stop ends it first`, 'E_ROLLING_BUSY');
    }
    const { run, skipped } = createRun(options, { executor, store, config, id: (this.o.newId ?? newRunId)(), now: this.clock() });
    this.run = run;
    this.lastCounts = undefined;
    this.notAutoApproved.clear();
    await this.save();
    const typical = runTypicalDuration(run, store);
    this.notify(
      renderStart({
        run,
        skipped,
        estimate: typical && { ms: estimateRunMs(run.order.length, run.slots!, typical.ms), samples: typical.samples },
        cadence: config.rolling.cadence !== undefined ? formatDuration(config.rolling.cadence) : undefined,
        window: this.window?.text,
      }),
      options,
    );
    void this.kick();
  }

  // ---- helpers ----

  private liveRun(action: string): RollingRun {
    const run = this.run;
    if (!run || !LIVE.includes(run.state)) {
      throw new UserError(`no rolling run to ${action}${run ? ` (run ${run.id} ${run.state})` : ''}; !rolling start begins one`, 'E_NO_ROLLING_RUN');
    }
    return run;
  }

  /**
   * The hosts whose active jobs take the run's slots: its fleet or group as configured now, and the guests of its
   * virthosts (they leave Koji with them, in or out of the group).
   */
  private runHosts(run: RollingRun): Set<string> {
    const hosts = run.group ? this.o.config.hosts.filter((h) => h.groups.includes(run.group!)) : this.o.config.hosts;
    const guests = (run.virthosts ?? []).flatMap((v) => guestsOf(this.o.config.hosts, v));
    return new Set([...hosts.map((h) => h.name), ...run.order, ...guests.map((g) => g.name)]);
  }

  /** The run's hosts that are guests of a virthost in the run: reinstalled with it, never alone. */
  private guestsWithVirthost(run: RollingRun): Set<string> {
    const virthosts = new Set(run.virthosts ?? []);
    return new Set(run.order.filter((h) => {
      const virthost = this.o.executor.host(h)?.virthost;
      return virthost !== undefined && virthosts.has(virthost);
    }));
  }

  private nextDueLine(run: RollingRun, t: RollingTally): string | undefined {
    const cadence = this.o.config.rolling.cadence;
    if (cadence === undefined) return undefined;
    const busy = new Set([...t.inFlight.map((j) => j.host), ...t.failed.map((f) => f.host)]);
    let best: { host: string; at: Date } | undefined;
    for (const host of run.order) {
      if (busy.has(host)) continue;
      const at = dueAt(this.o.store.getHost(host), cadence) ?? new Date(0);
      if (!best || at < best.at) best = { host, at };
    }
    if (!best) return undefined;
    return best.at <= this.clock() ? `next due: ${best.host} (due now)` : `next due: ${best.host} at ${best.at.toISOString()}`;
  }

  private elapsed(run: RollingRun): number {
    return Date.parse(run.endedAt ?? this.clock().toISOString()) - Date.parse(run.startedAt);
  }

  private async save(): Promise<void> {
    await this.o.store.saveRolling(this.run);
  }

  private notify(text: string, ctx?: Pick<RequestContext, 'origin'>, level: 'info' | 'warn' = 'info'): void {
    this.o.executor.notify(level, text, ctx?.origin ?? this.run?.origin);
  }

  private async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    try {
      await this.o.store.appendAudit({ at: this.clock().toISOString(), ...entry });
    } catch (err) {
      this.o.log.error({ err: toCodedError(err), action: entry.action }, 'could not record a rolling action in the audit trail');
    }
  }
}

function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}
