/**
 * The acting end of a pass: window -> due hosts -> capacity -> start. Asks the executor to reinstall the hosts
 * capacity picked, side by side, and records the jobs they got in the run.
 */
import { UserError } from '../errors';
import type { HostConfig } from '../config/schema';
import { ACTIVE_JOB_STATES, type Job, type RollingRun } from '../model';
import { pickHosts, slotsFor } from './capacity';
import { dueHosts } from './due-hosts';
import { ROLLING_IDENTITY } from './identity';
import { guestsWithVirthost, runHosts } from './run-hosts';
import type { RollingSchedulerOptions } from './types';
import type { RollingWindow } from './window';

export type StartDeps = Pick<RollingSchedulerOptions, 'executor' | 'store' | 'config' | 'log'>;

/** Starts the run's due hosts that capacity allows (none outside the window). Returns whether it started any. */
export async function startDueHosts(deps: StartDeps, run: RollingRun, now: Date, window: RollingWindow | undefined): Promise<boolean> {
  if (window && !window.contains(now)) return false;
  const { executor, store, config } = deps;
  const dueNames = dueHosts(run, store, config.rolling.cadence, now, guestsWithVirthost(run, (h) => executor.host(h)));
  const due = dueNames.map((h) => executor.host(h)).filter((h): h is HostConfig => h !== undefined);
  if (!due.length) return false;
  const active = store
    .peekJobs({ states: ACTIVE_JOB_STATES })
    .map((j) => executor.host(j.host))
    .filter((h): h is HostConfig => h !== undefined);
  const pick = pickHosts({
    due,
    active,
    runHosts: runHosts(run, config.hosts),
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
      deps.log.warn({ run: run.id, host: h.name, code: r.reason.code }, `rolling could not start ${h.name}: ${r.reason.message}`);
      continue;
    }
    if (recordStarted(run, h.name, r.value, now)) started = true;
  }
  return started;
}

/**
 * Records in the run the jobs one host's request queued (a virthost's queues its guests' too: those of the run's
 * hosts are the run's). The run is the scheduler's own copy: changed in place, not rebuilt per host. Returns
 * whether it recorded any.
 */
export function recordStarted(run: RollingRun, host: string, jobs: readonly Pick<Job, 'id' | 'host'>[], now: Date): boolean {
  let recorded = false;
  for (const job of jobs) {
    if (job.host !== host && !run.order.includes(job.host)) continue;
    run.jobs[job.host] = job.id;
    (run.hostStartedAt ??= {})[job.host] = now.toISOString();
    const wasDone = run.done.indexOf(job.host);
    if (wasDone >= 0) run.done.splice(wasDone, 1);
    recorded = true;
  }
  return recorded;
}
