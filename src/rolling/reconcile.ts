/**
 * Brings a rolling run up to date with the jobs in the store: the store is the truth (a crash between the
 * executor queuing a job and the run recording it, or events missed while rekick was down, lose nothing).
 * Records hosts that ended (done or failed) and returns them, so the caller can say so once.
 */
import type { Frozen, Store } from '../../store/store';
import { ACTIVE_JOB_STATES, type Job, type RollingRun, type StepName } from '../model';
import type { HostEnding } from './types';

export interface Reconciled {
  ended: HostEnding[];
  /** Whether the run changed (and must be saved). */
  changed: boolean;
}

function failureOf(job: Frozen<Job>): { step?: StepName; message: string } {
  if (job.state === 'cancelled') return { step: job.steps[job.current]?.name, message: `cancelled by ${job.cancel?.by.display ?? 'someone'}` };
  if (job.state === 'denied') {
    const reason = job.denial?.reason ? `: ${job.denial.reason}` : '';
    return { message: `denied by ${job.denial?.by.display ?? 'someone'}${reason}` };
  }
  return { step: job.error?.step, message: job.error?.message ?? 'failed' };
}

function isActive(job: Frozen<Job>): boolean {
  return ACTIVE_JOB_STATES.includes(job.state);
}

/** Updates `run` in place from the store. */
export function reconcileRun(run: RollingRun, store: Store): Reconciled {
  const ended: HostEnding[] = [];
  let changed = false;
  const done = new Set(run.done);
  const removeFailed = (host: string) => {
    const before = run.failed.length;
    run.failed = run.failed.filter((f) => f.host !== host);
    if (run.failed.length !== before) changed = true;
  };
  const markDone = (host: string) => {
    run.done.push(host);
    done.add(host);
    removeFailed(host);
    ended.push({ host, outcome: 'done' });
    changed = true;
  };
  const markFailed = (host: string, why: { step?: RollingRun['failed'][number]['step']; message: string }) => {
    if (run.failed.some((f) => f.host === host)) return;
    run.failed.push({ host, ...why });
    ended.push({ host, outcome: 'failed', ...why });
    changed = true;
  };

  for (const host of run.order) {
    // Adopt a job the executor queued for this run that the run never recorded (a crash in between).
    // Peeks, not copies: this runs for every host of the fleet on every pass.
    const [latest] = store.peekJobs({ host, limit: 1 });
    if (latest && latest.options.rollingRunId === run.id && run.jobs[host] !== latest.id) {
      const known = run.jobs[host] ? store.peekJob(run.jobs[host]) : undefined;
      if (!known || Date.parse(latest.createdAt) >= Date.parse(known.createdAt)) {
        run.jobs[host] = latest.id;
        if (done.delete(host)) run.done = run.done.filter((h) => h !== host);
        changed = true;
      }
    }
    const id = run.jobs[host];
    if (!id || done.has(host)) continue;
    const job = store.peekJob(id);
    if (!job) {
      // Compacted away: the host record still says how it ended.
      const rec = store.getHost(host);
      if (rec?.lastJobId !== id || !rec.lastOutcome) continue;
      if (rec.lastOutcome === 'succeeded') markDone(host);
      else markFailed(host, { message: `job ${id} ended ${rec.lastOutcome}` });
      continue;
    }
    if (isActive(job)) {
      // `!retry` of a failed host puts it back in flight.
      removeFailed(host);
      continue;
    }
    if (job.state === 'succeeded') markDone(host);
    else markFailed(host, failureOf(job));
  }
  return { ended, changed };
}
