/**
 * A virthost takes its guests with it: `!reinstall VIRTHOST` queues, in one write, its job and one linked job per
 * configured guest (Job.options). Guests are disabled and drained at once; the waits between them are in
 * virthost-waits.ts. All or nothing: a busy virthost or guest refuses the whole request, naming it.
 */
import type { Config, HostConfig } from '../config/schema';
import { UserError } from '../errors';
import type { Job } from '../model';

/** The guests configured on a virthost, in config order (`hosts`: the config's, or a rolling run's fleet). */
export function guestsOf(hosts: readonly HostConfig[], virthost: string): HostConfig[] {
  return hosts.filter((h) => h.kind === 'virt' && h.virthost === virthost);
}

export interface AdmittedHost {
  host: HostConfig;
  /** On a guest queued because its virthost is: that virthost (the jobs are linked). */
  virthost?: HostConfig;
}

/**
 * The hosts a reinstall request queues, in order: each requested host, a virthost followed at once by its guests. A
 * guest named in the same request as its virthost is covered by the virthost's (one job, linked to it). Throws
 * UserError E_BUSY, naming the host, when one of them (or a requested guest's virthost) is already in a job.
 */
export function admitReinstall(
  requested: readonly HostConfig[],
  config: Config,
  activeJob: (host: string) => Job | undefined,
  position: (job: Job) => string,
): AdmittedHost[] {
  const virthosts = new Set(requested.filter((h) => h.kind === 'virthost').map((h) => h.name));
  const out: AdmittedHost[] = [];
  const seen = new Set<string>();
  for (const h of requested) {
    if (seen.has(h.name)) continue;
    if (h.kind === 'virt' && h.virthost && virthosts.has(h.virthost)) continue; // queued with its virthost, below
    const busy = activeJob(h.name);
    if (busy) throw new UserError(`${h.name} is already in job ${busy.id} (${position(busy)}); nothing queued`, 'E_BUSY');
    if (h.kind === 'virt' && h.virthost) {
      const vhJob = activeJob(h.virthost);
      if (vhJob) {
        throw new UserError(`${h.name}'s virthost ${h.virthost} is itself being reinstalled (job ${vhJob.id}, ${position(vhJob)}); nothing queued`, 'E_BUSY');
      }
    }
    out.push({ host: h });
    seen.add(h.name);
    if (h.kind !== 'virthost') continue;
    for (const g of guestsOf(config.hosts, h.name)) {
      const guestJob = activeJob(g.name);
      if (guestJob) {
        throw new UserError(
          `${h.name} hosts ${g.name}, which is already in job ${guestJob.id} (${position(guestJob)}); a virthost's guests are reinstalled with it, so nothing queued`,
          'E_BUSY',
        );
      }
      out.push({ host: g, virthost: h });
      seen.add(g.name);
    }
  }
  return out;
}

/**
 * Links the jobs of guests queued with their virthost both ways (Job.options: the virthost's guestJobIds, each
 * guest's virthostJobId), before the one write that saves them all; jobs in the order admitReinstall gave the hosts.
 */
export function linkVirthostJobs(jobs: readonly Job[], admitted: readonly AdmittedHost[]): void {
  const byHost = new Map(jobs.map((j) => [j.host, j]));
  for (const a of admitted) {
    if (!a.virthost) continue;
    const vhJob = byHost.get(a.virthost.name)!;
    const guestJob = byHost.get(a.host.name)!;
    guestJob.options.virthost = a.virthost.name;
    guestJob.options.virthostJobId = vhJob.id;
    (vhJob.options.guestJobIds ??= []).push(guestJob.id);
  }
}
