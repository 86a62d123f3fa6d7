/** Where each host of a rolling run stands, read from the run and the store's jobs. */
import type { Frozen, Store } from '../../store/store';
import { ACTIVE_JOB_STATES, type Job, type RollingRun } from '../model';
import type { RollingTally } from './types';

export function tallyRun(run: RollingRun, store: Store, active = activeJobsByHost(store)): RollingTally {
  const inFlight: Frozen<Job>[] = [];
  for (const host of run.order) {
    const job = active.get(host);
    if (job) inFlight.push(job);
  }
  const busy = new Set(inFlight.map((j) => j.host));
  const done = new Set(run.done);
  const failed = new Set(run.failed.map((f) => f.host));
  return {
    done: [...run.done],
    failed: run.failed.filter((f) => !busy.has(f.host)),
    inFlight,
    waiting: inFlight.filter((j) => j.state === 'awaiting-approval').map((j) => j.host),
    left: run.order.filter((h) => !done.has(h) && !failed.has(h) && !busy.has(h)),
  };
}

/**
 * Each host's newest active job, from one read of the store's active jobs (no copies): a pass asks for every host
 * of the fleet several times, and a fleet has far fewer jobs in flight than hosts.
 */
export function activeJobsByHost(store: Store): Map<string, Frozen<Job>> {
  const byHost = new Map<string, Frozen<Job>>();
  for (const job of store.peekJobs({ states: ACTIVE_JOB_STATES })) if (!byHost.has(job.host)) byHost.set(job.host, job); // newest first
  return byHost;
}
