/**
 * One pass of the rolling loop over a live run: read (reconcile with the store's jobs, tally), decide (pure
 * functions: failure budget, due hosts, capacity) and act (approve, start, save, say).
 */
import type { AuditEntry, RollingRun } from '../model';
import { approveWaiting, waitingForApproval } from './auto-approve';
import { runEtaMs } from './estimate';
import { budgetPauseReason, freshFailures } from './failure-budget';
import { ROLLING_IDENTITY } from './identity';
import { reconcileRun } from './reconcile';
import { renderBudgetPause, renderCounts, renderProgress, renderSummary } from '../present/rolling-lines';
import { reinstalledOutsideRun } from './run-hosts';
import { budgetPause, elapsedMs, finishRun } from './run-transitions';
import { startDueHosts } from './start-due';
import { activeJobsByHost, tallyRun } from './tally';
import type { RollingSchedulerOptions } from './types';
import type { RollingWindow } from './window';

/** What a pass reads, remembers from one pass to the next, and does through the scheduler. */
export interface PassDeps {
  readonly o: RollingSchedulerOptions;
  readonly clock: () => Date;
  readonly window: RollingWindow | undefined;
  /** A progress line without a host ending at most this often. */
  readonly progressEveryMs: number;
  readonly memory: {
    /** The counts last said: a progress line without news only when they changed. */
    lastCounts: string | undefined;
    /** Jobs the executor would not approve automatically (said once each). */
    readonly notAutoApproved: Set<string>;
  };
  save(): Promise<void>;
  notify(text: string, level?: 'info' | 'warn'): void;
  audit(entry: Omit<AuditEntry, 'at'>): Promise<void>;
}

type Line = { text: string; level: 'info' | 'warn' };

export async function runPass(d: PassDeps, run: RollingRun): Promise<void> {
  const { store, config } = d.o;
  const now = d.clock();
  const { ended, changed } = reconcileRun(run, store);
  const active = activeJobsByHost(store);
  if (!run.continuous) {
    for (const host of reinstalledOutsideRun(run, active, (h) => store.peekHost(h))) {
      run.done.push(host);
      ended.push({ host, outcome: 'done', message: 'reinstalled outside the run' });
    }
  }
  let dirty = changed || ended.length > 0;

  if (config.rolling.autoApprove) {
    await approveWaiting(d.o.executor, run, waitingForApproval(run, active, d.memory.notAutoApproved), ({ host, jobId }, why) => {
      d.memory.notAutoApproved.add(jobId);
      d.notify(`rolling ${run.id}: ${host} was not approved automatically: ${why}`, 'warn');
    });
  }

  let t = tallyRun(run, store);
  const lines: Line[] = [];
  if (ended.length) lines.push({ text: renderProgress(run, t, ended, runEtaMs(run, t, store)), level: ended.some((x) => x.outcome === 'failed') ? 'warn' : 'info' });

  if (!run.continuous && t.inFlight.length === 0 && t.left.length === 0) {
    finishRun(run, now);
    await d.save();
    say(d, lines);
    d.notify(renderSummary(run, t, elapsedMs(run, d.clock)));
    await d.audit({ who: ROLLING_IDENTITY, origin: run.origin, action: 'rolling-finish', outcome: 'ok', detail: `${run.id}: ${renderCounts(run, t)}` });
    return;
  }

  const budget = config.rolling.failureBudget;
  const fresh = freshFailures(run);
  const pauseReason = budgetPauseReason(run, fresh, budget);
  if (pauseReason !== undefined) {
    budgetPause(run, pauseReason);
    dirty = true;
    lines.push({ text: renderBudgetPause(run, budget, fresh), level: 'warn' });
    await d.audit({ who: ROLLING_IDENTITY, origin: run.origin, action: 'rolling-pause', outcome: 'ok', detail: `${run.id}: ${run.pausedReason}` });
  }

  if (dirty) await d.save();
  if (run.state === 'running' && (await startDueHosts(d.o, run, now, d.window))) {
    await d.save();
    t = tallyRun(run, store);
  }

  const counts = renderCounts(run, t);
  const last = Date.parse(run.lastProgressAt ?? run.startedAt);
  if (!lines.length && counts !== d.memory.lastCounts && now.getTime() - last >= d.progressEveryMs) {
    lines.push({ text: renderProgress(run, t, [], runEtaMs(run, t, store)), level: 'info' });
  }
  if (lines.length) {
    d.memory.lastCounts = counts;
    run.lastProgressAt = now.toISOString();
    await d.save();
    say(d, lines);
  }
}

function say(d: PassDeps, lines: readonly Line[]): void {
  for (const l of lines) d.notify(l.text, l.level);
}
