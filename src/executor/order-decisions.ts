/**
 * `approve` and `deny` of jobs waiting at the approval gate. An approval is saved, audited and announced, then the
 * job's runner enables the host; a denial ends the job with the host left disabled and a Koji comment saying so.
 */
import { cloneJson } from '../../store/clone-json';
import { UserError } from '../errors';
import { denyComment } from '../present/koji-comments';
import type { Job } from '../model';
import { transitioned } from './job-transitions';
import { decidableJob } from './order-checks';
import type { OrderHost } from './order-host';
import type { ApproveOptions, DenyOptions, RequestContext } from './types';

export async function approveOrder(ex: OrderHost, hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Promise<Job[]> {
  ex.assertStoreWritable();
  const chosen = jobsToApprove(ex, hosts, ctx);
  const approval = { by: ctx.by, at: new Date().toISOString(), override: ctx.override || undefined, auto: ctx.auto || undefined };
  const jobs = chosen.map((job) => transitioned(job, { type: 'approve', decision: { ...approval } }));
  await ex.store.saveJobs(jobs);
  for (const job of jobs) ex.checkpoint?.('approved', job);
  for (const job of jobs) {
    const action = ctx.auto ? 'auto-approve' : ctx.override ? 'approve-override' : 'approve';
    await ex.audit({ who: ctx.by, origin: ctx.origin, action, host: job.host, jobId: job.id, outcome: 'ok' });
    ex.emit({ type: 'approved', job, by: ctx.by, override: Boolean(ctx.override), auto: Boolean(ctx.auto) });
    ex.launcher.launch(job.id);
  }
  return jobs.map((j) => cloneJson(j));
}

/** The jobs an approval applies to, or a refusal of the lot; `all` skips jobs needing --override or being cancelled. */
function jobsToApprove(ex: OrderHost, hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Job[] {
  if (hosts === 'all') {
    const waiting = ex.queue();
    if (!waiting.length) throw new UserError('no host is waiting for approval', 'E_NOTHING_WAITING');
    return waiting.filter((j) => !j.cancel && (ctx.override || !(j.kojiBefore && !j.kojiBefore.enabled)));
  }
  if (!hosts.length) throw new UserError('name at least one host, or all', 'E_USAGE');
  ex.resolveHosts(hosts.filter((h) => h.startsWith('group:')));
  const jobs: Job[] = [];
  for (const name of hosts) {
    for (const h of ex.resolveHosts([name])) {
      const target = { current: ex.store.activeJob(h.name), jobId: ctx.jobIds?.[h.name], find: (id: string) => ex.store.getJob(id) };
      const job = decidableJob(h.name, target, 'nothing approved');
      if (job.kojiBefore && !job.kojiBefore.enabled && !ctx.override) {
        throw new UserError(
          `${h.name} was already disabled in Koji before rekick touched it (comment: "${job.kojiBefore.comment ?? ''}"); !approve ${h.name} --override enables it anyway; nothing approved`,
          'E_NEEDS_OVERRIDE',
        );
      }
      jobs.push(job);
    }
  }
  return jobs;
}

export async function denyOrder(ex: OrderHost, host: string, ctx: RequestContext & DenyOptions): Promise<Job> {
  ex.assertStoreWritable();
  const [h] = ex.resolveHosts([host]);
  const target = { current: ex.store.activeJob(h!.name), jobId: ctx.jobId, find: (id: string) => ex.store.getJob(id) };
  const denial = { by: ctx.by, at: new Date().toISOString(), reason: ctx.reason };
  const job = transitioned(decidableJob(h!.name, target, 'nothing denied'), { type: 'deny', decision: denial });
  await ex.store.saveJob(job);
  await ex.audit({ who: ctx.by, origin: ctx.origin, action: 'deny', host: job.host, jobId: job.id, outcome: 'ok', detail: ctx.reason });
  // The job is finished: nothing else changes it, so this copy is still the store's.
  await ex.ending.setComment(job, denyComment(job, ctx.by, ctx.reason));
  await ex.store.saveJob(job);
  ex.emit({ type: 'denied', job, by: ctx.by, reason: ctx.reason });
  return cloneJson(job);
}
