/** The run's state changes a person asks for (pause, resume, stop) and the pass makes (finish, budget pause). */
import { UserError } from '../errors';
import type { Identity, RollingRun } from '../model';

const LIVE: ReadonlyArray<RollingRun['state']> = ['running', 'paused'];

/** A run still going (running or paused): one the loop works on and that blocks starting another. */
export function isLive(run: RollingRun | undefined): run is RollingRun {
  return run !== undefined && LIVE.includes(run.state);
}

/** The live run for a command, or the refusal that there is none. */
export function liveRun(run: RollingRun | undefined, action: string): RollingRun {
  if (!run || !LIVE.includes(run.state)) {
    throw new UserError(`no rolling run to ${action}${run ? ` (run ${run.id} ${run.state})` : ''}; !rolling start begins one`, 'E_NO_ROLLING_RUN');
  }
  return run;
}

export function pauseRun(run: RollingRun, by: Identity): void {
  if (run.state === 'paused') throw new UserError(`rolling run ${run.id} is already paused; !rolling resume goes on`, 'E_ROLLING_PAUSED');
  run.state = 'paused';
  run.pausedReason = `paused by ${by.display}`;
}

/** Resumes a paused run; the failures so far count as acknowledged (the budget counts afresh). */
export function resumeRun(run: RollingRun): void {
  if (run.state === 'running') throw new UserError(`rolling run ${run.id} is not paused`, 'E_ROLLING_RUNNING');
  run.state = 'running';
  run.pausedReason = undefined;
  run.acknowledgedFailures = run.failed.length;
}

export function stopRun(run: RollingRun, by: Identity, now: Date): void {
  run.state = 'stopped';
  run.stoppedBy = by;
  run.endedAt = now.toISOString();
}

export function finishRun(run: RollingRun, now: Date): void {
  run.state = 'finished';
  run.endedAt = now.toISOString();
}

export function budgetPause(run: RollingRun, reason: string): void {
  run.state = 'paused';
  run.pausedReason = reason;
}

/** How long the run went (or has gone so far). */
export function elapsedMs(run: RollingRun, clock: () => Date): number {
  return Date.parse(run.endedAt ?? clock().toISOString()) - Date.parse(run.startedAt);
}
