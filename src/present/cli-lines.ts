/** How `rekick status`, `rekick hosts` and `rekick audit` print a job, a host and an audit entry (plain, unbounded). */
import { STEP_NAMES, type AuditEntry, type Job } from '../model';
import { disarmClause } from './disarm';
import { agoOrNever, formatDuration } from './duration';
import { auditName } from './identity';
import { proofDetail, proofSummary } from './proof';
import { stepTag } from './step-tag';

/** `rekick status [HOST]`: the job's line, then (for one host) each step, the proof and the disarm record. */
export function cliJobLines(job: Job): string[] {
  const lines = [`${job.host} job ${job.id}: ${job.state}, asked by ${job.requestedBy.display} ${agoOrNever(job.createdAt)}${job.reason ? ` (${job.reason})` : ''}`];
  job.steps.forEach((s, i) => {
    const time = s.durationMs !== undefined ? ` ${formatDuration(s.durationMs)}` : s.startedAt && s.status === 'running' ? ` for ${formatDuration(Date.now() - Date.parse(s.startedAt))}` : '';
    const extra = s.error ? `: ${s.error.message}` : s.progress && s.status === 'running' ? `: ${s.progress}` : '';
    lines.push(`  ${stepTag(STEP_NAMES[i]!, i)} ${s.status}${time}${extra}`);
  });
  if (job.proof) lines.push(`  ${proofSummary(job.proof)} (${proofDetail(job.proof)})`);
  const disarm = disarmClause(job);
  if (disarm) lines.push(`  ${disarm}`);
  return lines;
}

/** A host as `rekick hosts` prints it (the read-only API's HostView is one). */
export interface CliHost {
  name: string;
  arch: string;
  kind: string;
  job: { state: string; step: string | null } | null;
  lastReinstalledAt: string | null;
}

/** `rekick hosts`: one padded line per host. */
export function cliHostLine(h: CliHost): string {
  const job = h.job ? `${h.job.state} at ${h.job.step}` : 'idle';
  return `${h.name.padEnd(20)} ${h.arch.padEnd(8)} ${h.kind.padEnd(9)} ${job.padEnd(30)} last reinstall ${agoOrNever(h.lastReinstalledAt)}`;
}

/** `rekick audit`: one entry; a repeated refusal says how many times. */
export function cliAuditLine(e: AuditEntry): string {
  const times = e.count && e.count > 1 ? ` (${e.count} times, the last at ${e.lastAt ?? e.at})` : '';
  return `${e.at} ${auditName(e.who)} ${e.action}${e.host ? ` ${e.host}` : ''} ${e.outcome}${e.detail ? `: ${e.detail}` : ''}${times}`;
}
