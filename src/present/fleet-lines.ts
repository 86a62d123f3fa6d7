/** !queue and !hosts as lines: the hosts waiting for approval, and each host's Koji state, job and last reinstall. */
import type { Job } from '../model';
import { age } from './duration';
import { chatName } from './identity';
import { describeJob, waitingSince } from './job-lines';
import { boundedLine } from './one-line';

/** !queue: the hosts waiting for approval, oldest first, with how long each has waited. */
export function renderQueue(jobs: Job[], now: Date): string[] {
  if (!jobs.length) return ['no host is waiting for approval'];
  return jobs.map(
    (j, i) =>
      `${i + 1}. ${j.host} waiting ${age(waitingSince(j), now)} (job ${j.id}, by ${chatName(j.requestedBy)}${j.kojiBefore && !j.kojiBefore.enabled ? '; was disabled before rekick: needs --override' : ''})`,
  );
}

export interface HostRow {
  name: string;
  arch: string;
  kind: string;
  koji?: { enabled: boolean; comment: string | null };
  job?: Job;
  lastReinstalledAt?: string;
  /** How the host's last finished job ended (for the summary of a long list). */
  lastOutcome?: Job['state'];
}

/** !hosts: one compact line per host: Koji state, current job, last reinstall. */
export function renderHosts(rows: HostRow[], now: Date): string[] {
  if (!rows.length) return ['no hosts'];
  return rows.map((r) => {
    const koji = !r.koji
      ? 'koji: ?'
      : r.koji.enabled
        ? 'koji: enabled'
        : `koji: disabled${r.koji.comment ? ` ("${boundedLine(r.koji.comment, 80)}")` : ''}`;
    const job = r.job ? `job: ${describeJob(r.job, now)}` : 'job: none';
    const last = r.lastReinstalledAt ? `last reinstall ${age(r.lastReinstalledAt, now)} ago` : 'never reinstalled by rekick';
    return `${r.name} (${r.arch} ${r.kind}) ${koji}; ${job}; ${last}`;
  });
}
