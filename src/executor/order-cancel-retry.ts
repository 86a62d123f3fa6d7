/**
 * `cancel` (a job stops at its next safe point, or ends at once without a runner; the host stays disabled) and
 * `retry` (a failed job resumes from the step that failed).
 */
import { cloneJson } from '../../store/clone-json';
import { ACTIVE_JOB_STATES, type Job } from '../model';
import { concludeEndedJob } from './job-ending';
import { transitioned } from './job-transitions';
import { cancellableJob, retryableJob } from './order-checks';
import type { OrderHost } from './order-host';
import type { RequestContext } from './types';

export async function cancelOrder(ex: OrderHost, host: string, ctx: RequestContext): Promise<Job> {
  ex.assertStoreWritable();
  const [h] = ex.resolveHosts([host]);
  const job = cancellableJob(h!.name, ex.store.activeJob(h!.name));
  const decision = { by: ctx.by, at: new Date().toISOString() };
  // A runner still working the job holds it: it records the cancel and stops at the next safe point (including
  // its approval gate). A job without one (waiting for approval, or not started yet) ends cancelled now.
  const runner = ex.launcher.get(job.id);
  if (runner?.takesCancel) await runner.requestCancel(decision);
  else await ex.finishCancelled(transitioned(job, { type: 'cancel', decision }));
  await ex.audit({ who: ctx.by, origin: ctx.origin, action: 'cancel', host: job.host, jobId: job.id, outcome: 'ok' });
  return cloneJson(ex.store.getJob(job.id) ?? job);
}

/**
 * Ends a job as cancelled: the host stays disabled, with a comment saying who cancelled and where. Called with
 * the job as its runner holds it (or as the store holds it, without a runner); a job the store has finished
 * meanwhile is left as it is. `background`: a disarm of its installer is finished without waiting for it (the host
 * busy meanwhile; the comment and the line come after it), as at start for a cancel a crash left pending.
 */
export async function finishCancelled(ex: OrderHost, job: Job, options: { background?: boolean } = {}): Promise<void> {
  const stored = ex.store.peekJob(job.id);
  if (stored && !ACTIVE_JOB_STATES.includes(stored.state)) {
    ex.log.warn({ job: job.id, state: stored.state }, 'cancel of a job already finished: left as it is');
    return;
  }
  const done = transitioned(job, { type: 'end-cancelled', at: new Date().toISOString(), host: ex.host(job.host) }); // a disarm pending
  await ex.store.saveJob(done);
  if (options.background && done.disarm?.outcome === 'pending') return ex.disarms.finishInBackground(done);
  await ex.disarms.finish(done);
  await concludeEndedJob(done, ex.ending);
}

export async function retryOrder(ex: OrderHost, host: string, ctx: RequestContext): Promise<Job> {
  ex.assertStoreWritable();
  const [h] = ex.resolveHosts([host]);
  // A disarm resumed at start: the retry goes on from its outcome (no await otherwise: orders keep their order).
  if (ex.disarms.busy(h!.name)) await ex.disarms.settled(h!.name);
  const lastJob = () => ex.store.listJobs({ host: h!.name, limit: 1 })[0];
  let last = retryableJob(h!.name, ex.store.activeJob(h!.name), lastJob());
  // The runner that failed may still be recording the failure (its Koji comment, its last write): let it finish,
  // then decide on the job as the store holds it then, so that runner cannot write the failure over the retry.
  const winding = ex.launcher.get(last.id);
  if (winding) {
    await winding.done;
    last = retryableJob(h!.name, ex.store.activeJob(h!.name), lastJob());
  }
  const job = transitioned(last, { type: 'retry', by: ctx.by, at: new Date().toISOString() });
  const step = job.steps[job.current]!;
  await ex.store.saveJob(job);
  await ex.audit({ who: ctx.by, origin: ctx.origin, action: 'retry', host: job.host, jobId: job.id, outcome: 'ok', detail: `from ${step.name}` });
  // From the job as the store holds it now: a !cancel since the write above has ended it, and it stays so.
  ex.launcher.launch(job.id);
  return cloneJson(ex.store.getJob(job.id) ?? job);
}
