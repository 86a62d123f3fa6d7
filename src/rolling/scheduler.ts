/**
 * The rolling scheduler, in kured's loop shape: first resume what it holds (the run in the store), then on every
 * pass read the state, decide with pure functions (reconcile, failure budget, due hosts, capacity) and act. Slots
 * belong to jobs in the store, never to a lease that could leak when rekick dies. Passes run one at a time: after
 * the executor events that can change a decision (PASS_EVENTS), every `tickMs`, and after each command.
 */
import { toCodedError } from '../errors';
import type { RequestContext } from '../executor/types';
import type { RollingStartOptions } from './types';
import type { AuditEntry, ExecutorEvent, RollingRun } from '../model';
import { SerialChain } from '../util/serial-chain';
import { runPass, type PassDeps } from './pass';
import { reconcileRun } from './reconcile';
import { renderCounts, renderSummary } from '../present/rolling-lines';
import { runStatus } from './run-status';
import { elapsedMs, isLive, liveRun, pauseRun, resumeRun, stopRun } from './run-transitions';
import { renderStartLine, startNewRun } from './start-run';
import { tallyRun } from './tally';
import type { RollingScheduler, RollingSchedulerOptions } from './types';
import { parseWindow, type RollingWindow } from './window';

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
  private readonly clock: () => Date;
  private readonly window: RollingWindow | undefined;
  private readonly progressEveryMs: number;
  private readonly passes = new SerialChain();
  private run: RollingRun | undefined;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  /** What passes remember between them (the counts last said, jobs not approved automatically). */
  private readonly memory: PassDeps['memory'] = { lastCounts: undefined, notAutoApproved: new Set() };
  private readonly passDeps: PassDeps;

  constructor(private readonly o: RollingSchedulerOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.window = o.config.rolling.window ? parseWindow(o.config.rolling.window) : undefined;
    this.progressEveryMs = o.progressEveryMs ?? 5 * 60_000;
    this.passDeps = {
      o,
      clock: this.clock,
      window: this.window,
      progressEveryMs: this.progressEveryMs,
      memory: this.memory,
      save: () => this.save(),
      notify: (text, level) => this.notify(text, undefined, level),
      audit: (entry) => this.audit(entry),
    };
  }

  // ---- lifecycle ----

  async activate(): Promise<void> {
    if (this.unsubscribe && !this.closed) return;
    this.closed = false;
    this.run = this.o.store.getRolling();
    const run = this.run;
    if (isLive(run)) {
      // Hosts that ended while rekick was down count at once (said in the line below, not one by one).
      if (reconcileRun(run, this.o.store).changed) await this.save();
      this.memory.lastCounts = renderCounts(run, tallyRun(run, this.o.store));
      this.o.log.info({ run: run.id, state: run.state }, 'resuming the rolling run held in the store');
      this.notify(`rolling ${run.id} resumed after a restart (${run.state}): ${this.memory.lastCounts}`);
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

  settled(): Promise<void> {
    return this.passes.settled();
  }

  current(): RollingRun | undefined {
    return this.run ? structuredClone(this.run) : undefined;
  }

  // ---- RollingApi ----

  start(options: RollingStartOptions): Promise<string | void> {
    return this.passes.run(async () => {
      const { run, skipped } = startNewRun(this.o, this.run, options, this.clock);
      this.run = run;
      this.memory.lastCounts = undefined;
      this.memory.notAutoApproved.clear();
      await this.save();
      this.notify(renderStartLine(this.o, run, skipped, this.window), options);
      void this.kick();
    });
  }

  pause(ctx: RequestContext): Promise<string | void> {
    return this.passes.run(async () => {
      const run = liveRun(this.run, 'pause');
      pauseRun(run, ctx.by);
      await this.save();
      const t = tallyRun(run, this.o.store);
      this.notify(`rolling ${run.id} paused by ${ctx.by.display}: no new hosts start; ${t.inFlight.length} in flight go on. ${renderCounts(run, t)}`, ctx);
    });
  }

  resume(ctx: RequestContext): Promise<string | void> {
    return this.passes.run(async () => {
      const run = liveRun(this.run, 'resume');
      resumeRun(run);
      await this.save();
      this.notify(`rolling ${run.id} resumed by ${ctx.by.display}: ${renderCounts(run, tallyRun(run, this.o.store))}; the failure budget counts afresh`, ctx);
      void this.kick();
    });
  }

  stop(ctx: RequestContext): Promise<string | void> {
    return this.passes.run(async () => {
      const run = liveRun(this.run, 'stop');
      reconcileRun(run, this.o.store);
      stopRun(run, ctx.by, this.clock());
      await this.save();
      const t = tallyRun(run, this.o.store);
      this.notify(renderSummary(run, t, elapsedMs(run, this.clock)), ctx);
      await this.audit({ who: ctx.by, origin: ctx.origin, action: 'rolling-stop', outcome: 'ok', detail: `${run.id}: ${renderCounts(run, t)}` });
    });
  }

  status(): string[] {
    return this.run ? runStatus(this.o, this.run, this.window, this.clock) : [];
  }

  // ---- the loop ----

  private kick(): Promise<void> {
    if (this.closed || this.pending) return Promise.resolve();
    this.pending = true;
    return this.passes.run(async () => {
      this.pending = false;
      if (this.closed) return;
      try {
        if (isLive(this.run)) await runPass(this.passDeps, this.run);
      } catch (err) {
        this.o.log.error({ err: toCodedError(err), run: this.run?.id }, 'rolling pass failed; the next pass tries again');
      }
    });
  }

  private onEvent(e: ExecutorEvent): void {
    const run = this.run;
    if (!isLive(run) || e.type === 'notice' || !PASS_EVENTS.has(e.type)) return;
    if (e.job.options.rollingRunId === run.id || run.order.includes(e.job.host)) void this.kick();
  }

  // ---- effects ----

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
