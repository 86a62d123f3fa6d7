/** The failure budget: how many failures since the last resume pause a running run. Pure. */
import type { RollingRun } from '../model';

export type Failure = RollingRun['failed'][number];

/**
 * The failures not yet acknowledged (by a resume), after bringing `acknowledgedFailures` within the list (a failed
 * host retried and done leaves it). Changes only that count on the run.
 */
export function freshFailures(run: RollingRun): Failure[] {
  run.acknowledgedFailures = Math.min(run.acknowledgedFailures ?? 0, run.failed.length);
  return run.failed.slice(run.acknowledgedFailures);
}

/** Why a running run pauses now, or undefined while its fresh failures are under the budget. */
export function budgetPauseReason(run: RollingRun, fresh: readonly Failure[], budget: number): string | undefined {
  if (run.state !== 'running' || fresh.length < budget) return undefined;
  return `${fresh.length} reinstall(s) failed (budget ${budget}): ${fresh.map((f) => f.host).join(', ')}`;
}
