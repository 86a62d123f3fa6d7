/**
 * `reinstall`: one job per host, all or nothing (a busy or unknown host refuses the lot); a virthost comes with one
 * linked job per guest. Each job is saved with its first step started, then its runner launched.
 */
import { cloneJson } from '../../store/clone-json';
import { UserError } from '../errors';
import type { Step } from '../steps/types';
import type { Job } from '../model';
import { describeJobPosition } from '../present/job-position';
import { queuedJob, transitioned } from './job-transitions';
import type { OrderHost } from './order-host';
import type { ReinstallRequest } from './types';
import { admitReinstall, linkVirthostJobs, type AdmittedHost } from './virthost-guests';

export async function reinstallOrder(ex: OrderHost, request: ReinstallRequest): Promise<Job[]> {
  if (ex.stopping) throw new UserError('rekick is shutting down; try again when it is back', 'E_STOPPING');
  ex.assertStoreWritable();
  if (!request.hosts.length) throw new UserError('name at least one host', 'E_USAGE');
  // A virthost comes with its guests (one linked job each); a busy host among them refuses the whole request.
  const admitted = admitReinstall(ex.resolveHosts(request.hosts), ex.config, (n) => ex.store.activeJob(n) ?? ex.disarms.busy(n), describeJobPosition);
  const jobs = newJobs(admitted, request, ex.steps, () => ex.newId(), new Date().toISOString());
  await ex.store.saveJobs(jobs);
  const audited: Promise<void>[] = [];
  for (const job of jobs) {
    // The job is durable; its audit entry goes into the next write, while the first step works, not before it.
    audited.push(ex.audit({ who: request.by, origin: request.origin, action: 'reinstall', host: job.host, jobId: job.id, outcome: 'ok', detail: request.reason }));
    ex.emit({ type: 'job-queued', job });
    // From the job as the store holds it now: a !cancel during the write above has ended it, and it stays so.
    ex.launcher.launch(job.id, { startSaved: job.state === 'running' });
  }
  await Promise.all(audited);
  return jobs.map((j) => cloneJson(j));
}

/**
 * The admitted hosts' new jobs, linked (a virthost's and its guests'), each with its first step already started: one
 * durable write between the command and the first Koji call (a crash before that call resumes the job at that
 * step, as it would a queued job).
 */
export function newJobs(admitted: AdmittedHost[], request: ReinstallRequest, steps: Step[], newId: () => string, now: string): Job[] {
  const fields = { requestedBy: request.by, origin: request.origin, reason: request.reason };
  const options = { forceDrain: request.forceDrain || undefined, rollingRunId: request.rollingRunId };
  const jobs = admitted.map(({ host }) => queuedJob({ id: newId(), host: host.name, ...fields, options: { ...options } }, (i) => steps[i]!.appliesTo?.(host) === false, now));
  linkVirthostJobs(jobs, admitted);
  return jobs.map((job) => {
    const first = job.steps.findIndex((s) => s.status === 'pending');
    if (first < 0 || first === job.steps.length - 1) return job; // enable runs after the approval, not now
    return transitioned(transitioned(job, { type: 'run' }), { type: 'step-started', index: first, at: now });
  });
}
