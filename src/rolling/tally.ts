/** Where each host of a rolling run stands, read from the run and the store's jobs. */
import type { Frozen, Store } from '../../store/store';
import { ACTIVE_JOB_STATES, type Job, type RollingRun } from '../types';

export interface RollingTally {
  done: string[];
  failed: RollingRun['failed'];
  /** Hosts of the run with an active job (those waiting for approval included). */
  inFlight: Frozen<Job>[];
  /** The in-flight hosts waiting for approval. */
  waiting: string[];
  /** Hosts not yet started (or, in a continuous run, not reinstalled this round), in the run's order. */
  left: string[];
}

export function tallyRun(run: RollingRun, store: Store): RollingTally {
  const inFlight: Frozen<Job>[] = [];
  for (const host of run.order) {
    const [job] = store.peekJobs({ host, states: ACTIVE_JOB_STATES, limit: 1 }); // every host, every pass: no copies
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
