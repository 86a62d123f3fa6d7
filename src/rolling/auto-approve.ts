/**
 * With rolling.autoApprove: the run's own jobs waiting for approval are approved by the scheduler, side by side.
 * A job the executor would not approve is said once and then left to a person.
 */
import { UserError } from '../errors';
import type { Frozen } from '../../store/store';
import type { Job, RollingRun } from '../model';
import { ROLLING_IDENTITY } from './identity';
import type { RollingExecutor } from './types';

export interface WaitingJob {
  host: string;
  jobId: string;
}

/** The run's jobs (in the run's order) waiting for approval, but those already refused once (`skip`). Pure. */
export function waitingForApproval(run: RollingRun, active: ReadonlyMap<string, Frozen<Job>>, skip: ReadonlySet<string>): WaitingJob[] {
  const waiting: WaitingJob[] = [];
  for (const host of run.order) {
    const job = active.get(host);
    if (!job || job.state !== 'awaiting-approval' || job.options.rollingRunId !== run.id || skip.has(job.id)) continue;
    waiting.push({ host, jobId: job.id });
  }
  return waiting;
}

/**
 * Approves each waiting job by the job seen waiting: a later job of the host (say a person's !reinstall) is refused,
 * never approved. Each one the executor refuses is told to `refused`, in order.
 */
export async function approveWaiting(
  executor: RollingExecutor,
  run: RollingRun,
  waiting: readonly WaitingJob[],
  refused: (job: WaitingJob, why: string) => void,
): Promise<void> {
  // Side by side: their durable writes share the store's group commit instead of waiting one after another
  // (one host at a time held every other host of the pass in awaiting-approval for seconds under a busy store).
  const results = await Promise.allSettled(
    waiting.map(({ host, jobId }) => executor.approve([host], { by: ROLLING_IDENTITY, origin: run.origin, auto: true, jobIds: { [host]: jobId } })),
  );
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof UserError)) throw r.reason;
    refused(waiting[i]!, r.reason.message);
  }
}
