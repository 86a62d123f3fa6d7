/**
 * How a job reads in chat: in a few words (`running [3/8] stage-installer for 1m`), as one line of !status, and
 * step by step for !status HOST. Pure: tables take `now`.
 */
import { STEP_NAMES, type Job, type StepRecord } from '../model';
import { retryStep } from '../steps/disarm-installer';
import { disarmClause, disarmShort } from './disarm';
import { age, formatDuration } from './duration';
import { chatName } from './identity';
import { leftState } from './left-state';
import { boundedLine } from './one-line';
import { proofDetail, proofSummary } from './proof';
import { stepTag, TOTAL_STEPS } from './step-tag';

function stepNow(job: Job): StepRecord | undefined {
  return job.steps[Math.min(job.current, job.steps.length - 1)];
}

/** Where a job is, in a few words: `running [3/8] stage-installer for 1m`, `failed at [5/8] wait-ssh: cause`. */
export function describeJob(job: Job, now: Date): string {
  const step = stepNow(job);
  const tag = step ? stepTag(step.name, Math.min(job.current, TOTAL_STEPS - 1)) : '';
  switch (job.state) {
    case 'queued':
      return `queued ${age(job.createdAt, now)} ago`;
    case 'running':
      return `running ${tag}${step?.startedAt ? ` for ${age(step.startedAt, now)}` : ''}${job.cancel ? ' (cancelling)' : ''}`;
    case 'awaiting-approval':
      return `waiting for approval for ${age(waitingSince(job), now)}`;
    case 'enabling':
      return `approved, enabling ${tag}`;
    case 'failed':
      return `failed at ${job.error ? stepTag(job.error.step) : tag} ${age(job.endedAt, now)} ago${job.error ? `: ${boundedLine(job.error.message, 120)}` : ''}${disarmed(job)}`;
    case 'succeeded':
      return `reinstalled ${age(job.endedAt, now)} ago`;
    case 'cancelled':
      return `cancelled ${age(job.endedAt, now)} ago${job.cancel ? ` by ${chatName(job.cancel.by)}` : ''}${disarmed(job)}`;
    case 'denied':
      return `denied ${age(job.endedAt, now)} ago${job.denial ? ` by ${chatName(job.denial.by)}` : ''}`;
  }
}

function disarmed(job: Job): string {
  const short = disarmShort(job);
  return short ? `; ${short}` : '';
}

/** When a job started waiting for approval: reboot-verify's end, else its last change. The queue's order too. */
export function waitingSince(job: Job): string {
  return job.steps[STEP_NAMES.indexOf('reboot-verify')]?.endedAt ?? job.updatedAt;
}

/** !status: one line per job, active ones first. */
export function renderStatus(jobs: Job[], now: Date): string[] {
  if (!jobs.length) return ['no jobs yet: !reinstall HOST starts one'];
  const active = (j: Job) => ['queued', 'running', 'awaiting-approval', 'enabling'].includes(j.state);
  const sorted = [...jobs.filter(active), ...jobs.filter((j) => !active(j))];
  return sorted.map((j) => `${j.host} ${describeJob(j, now)} (job ${j.id}, by ${chatName(j.requestedBy)})`);
}

const MARK: Record<StepRecord['status'], string> = {
  pending: '·',
  running: '…',
  succeeded: '✓',
  failed: '✗',
  skipped: '–',
};

/** One step of !status HOST: its tag, mark, state, time and what it is doing or why it failed. */
function stepLine(s: StepRecord, i: number, now: Date): string {
  let time = '';
  if (s.durationMs !== undefined && s.status !== 'running') time = ` ${formatDuration(s.durationMs)}`;
  else if (s.status === 'running' && s.startedAt) time = ` ${age(s.startedAt, now)}`;
  const detail =
    s.status === 'failed' && s.error
      ? ` ${boundedLine(s.error.message, 160)}`
      : s.status === 'running' && s.progress
        ? ` — ${boundedLine(s.progress, 160)}`
        : s.attempts > 1
          ? ` (${s.attempts} attempts)`
          : '';
  return `  ${stepTag(s.name, i)} ${MARK[s.status]} ${s.status}${time}${detail}`;
}

/** !status HOST: the job, then each step with its state, time and progress line. */
export function renderJob(job: Job, now: Date): string[] {
  const lines = [`${job.host} job ${job.id}: ${describeJob(job, now)} (by ${chatName(job.requestedBy)}${job.reason ? `: ${boundedLine(job.reason, 120)}` : ''})`];
  job.steps.forEach((s, i) => lines.push(stepLine(s, i, now)));
  if (job.hostKey) lines.push(`  host key: ${job.hostKey.accepted}`);
  if (job.proof) lines.push(`  ${proofSummary(job.proof)} (${proofDetail(job.proof)})`);
  if (job.state === 'awaiting-approval') lines.push(`  !approve ${job.host} to enable it in Koji`);
  const disarm = disarmClause(job);
  if (disarm) lines.push(`  ${disarm}${job.disarm?.detail && job.disarm.outcome !== 'failed' && job.disarm.outcome !== 'vm-gone' ? ` (${boundedLine(job.disarm.detail, 160)})` : ''}`);
  if (job.state === 'failed') lines.push(`  ${leftState(job)}; !retry ${job.host} resumes from ${retryStep(job)}`);
  return lines;
}
