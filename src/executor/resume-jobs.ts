/** Resuming the unfinished jobs that have no runner (at start, and once the store works again after a failure). */
import { ACTIVE_JOB_STATES, STEP_NAMES } from '../model';
import type { OrderHost } from './order-host';

/**
 * Resumes the unfinished jobs that have no runner, oldest first, each as the store holds it at its turn (an order
 * may come while an earlier one is being finished). A pending cancel ends its job cancelled, one waiting for
 * approval included (a disarm it needs goes on in the background: a host that does not answer holds up neither
 * the other jobs nor the start); a job waiting for approval otherwise waits on.
 */
export async function resumeJobs(ex: OrderHost, why: string): Promise<void> {
  const ids = ex.store.listJobs({ states: ACTIVE_JOB_STATES }).reverse().map((j) => j.id);
  for (const id of ids) {
    if (ex.stopping) return;
    const job = ex.store.getJob(id);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state) || ex.launcher.get(id)) continue;
    if (job.cancel && job.state !== 'enabling') {
      await ex.finishCancelled(job, { background: true });
      continue;
    }
    if (job.state === 'awaiting-approval') continue;
    ex.log.info({ job: job.id, host: job.host, step: STEP_NAMES[job.current] }, why);
    ex.launcher.launch(job.id);
  }
}
