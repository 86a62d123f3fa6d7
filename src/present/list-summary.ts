/**
 * One-line summaries of lists that grow with the fleet, shown in a channel instead of the list when it is long
 * (see list-reply.ts): counts, and the few names that need someone's attention.
 */
import type { Job } from '../model';
import { age } from './duration';
import type { HostRow } from './fleet-lines';
import { waitingSince } from './job-lines';
import { someOf } from './name-list';

/** `3 running, 2 waiting for approval`: the non-zero counts, in the order given. */
function counts(parts: Array<[number, string]>): string {
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
}

const JOB_STATES: Array<[Job['state'], string]> = [
  ['queued', 'queued'],
  ['running', 'running'],
  ['awaiting-approval', 'waiting for approval'],
  ['enabling', 'enabling'],
];

/** !hosts: `500 hosts: Koji 480 enabled, 12 disabled by rekick, …; 8 in jobs (…); last reinstall failed: …`. */
export function summariseHosts(rows: readonly HostRow[], scope?: string): string {
  const disabledByRekick = rows.filter((r) => r.koji && !r.koji.enabled && r.koji.comment?.startsWith('rekick:')).length;
  const disabled = rows.filter((r) => r.koji && !r.koji.enabled).length;
  const koji = counts([
    [rows.filter((r) => r.koji?.enabled).length, 'enabled'],
    [disabledByRekick, 'disabled by rekick'],
    [disabled - disabledByRekick, 'disabled by others'],
    [rows.filter((r) => !r.koji).length, 'not known yet'],
  ]);
  const inJobs = rows.filter((r) => r.job);
  const jobs = inJobs.length
    ? `${inJobs.length} in jobs (${counts(JOB_STATES.map(([s, what]) => [inJobs.filter((r) => r.job!.state === s).length, what]))})`
    : 'none in a job';
  const failed = rows.filter((r) => !r.job && r.lastOutcome === 'failed').map((r) => r.name);
  const never = rows.filter((r) => !r.lastReinstalledAt).length;
  const parts = [
    `${rows.length} hosts${scope ? ` (${scope})` : ''}: Koji ${koji || 'nothing known'}`,
    jobs,
    ...(failed.length ? [`last reinstall failed: ${failed.length} (${someOf(failed, 5)})`] : []),
    ...(never ? [`never reinstalled by rekick: ${never}`] : []),
  ];
  return parts.join('; ');
}

/** !queue: `23 hosts waiting for approval, oldest first: a (3h), b (2h) … and 18 more; 2 need --override`. */
export function summariseQueue(jobs: readonly Job[], now: Date): string {
  const named = jobs.map((j) => `${j.host} (${age(waitingSince(j), now)})`);
  const override = jobs.filter((j) => j.kojiBefore && !j.kojiBefore.enabled).length;
  const needs = override ? `; ${override} were disabled before rekick: they need !approve HOST --override` : '';
  return `${jobs.length} hosts waiting for approval, oldest first: ${someOf(named, 8)}${needs}`;
}
