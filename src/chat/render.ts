/**
 * What the channel sees: pure functions from executor events, jobs and hosts to lines of text (CHAT.md "What
 * the channel sees"). Every progress line names the host and the step with its `[N/8]`. No I/O, no clock of its
 * own: tables take `now`.
 */
import { formatDuration } from '../errors';
import { STEP_NAMES, type ExecutorEvent, type Identity, type Job, type StepName, type StepRecord } from '../model';
import { proofDetail, proofSummary } from './render-proof';
import { commentWithoutDisarm, disarmClause, disarmShort } from './render-disarm';
import { retryStep } from '../steps/disarm-installer';

const TOTAL = STEP_NAMES.length;
const TAIL_SHOWN = 5;

export function stepTag(step: StepName, index?: number): string {
  const i = index ?? STEP_NAMES.indexOf(step);
  return `[${i + 1}/${TOTAL}] ${step}`;
}

/** How a person is shown in chat: their display name, or the source when there is none. */
export function who(by: Identity): string {
  return by.display || by.id || by.source;
}

/** Control characters out, one line, bounded: for anything that came from a host or a person. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f-\x9f]/g, '').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The state a host was left in, for failures, cancels and denials. */
export function leftState(job: Job): string {
  const disabled = job.steps[0]?.status === 'succeeded';
  if (!disabled) return 'host not touched in Koji';
  return `host left disabled in Koji${job.kojiComment ? ` ("${oneLine(commentWithoutDisarm(job, job.kojiComment), 200)}")` : ''}`;
}

/** leftState, then what became of the installer the job may have armed (src/chat/render-disarm.ts). */
function leftStateAndDisarm(job: Job): string {
  const disarm = disarmClause(job);
  return disarm ? `${leftState(job)}; ${disarm}` : leftState(job);
}

/** A virthost's job and its guests' jobs say how they go together (src/executor/virthost-guests.ts). */
function virthostLinks(job: Job): string {
  const guests = job.options.guestJobIds?.length ?? 0;
  if (guests) return `its ${guests} guest${guests === 1 ? '' : 's'} drained first, reinstalled after it`;
  if (job.options.virthostJobId) return `its virthost ${job.options.virthost} goes first (job ${job.options.virthostJobId})`;
  return '';
}

export function renderEvent(event: ExecutorEvent): string[] {
  switch (event.type) {
    case 'job-queued': {
      const { job } = event;
      const extras = [job.options.forceDrain ? 'force-drain' : '', job.options.rollingRunId ? `rolling run ${job.options.rollingRunId}` : '', virthostLinks(job)]
        .filter(Boolean)
        .join(', ');
      return [
        `${job.host} queued for reinstall by ${who(job.requestedBy)} (job ${job.id}${extras ? `, ${extras}` : ''})${job.reason ? `: ${oneLine(job.reason, 200)}` : ''}`,
      ];
    }
    case 'step-started':
      return [`${event.job.host} ${stepTag(event.step, event.index)} …`];
    case 'step-progress':
      return [`${event.job.host} ${stepTag(event.step)}: ${oneLine(event.message)}`];
    case 'step-succeeded':
      return [`${event.job.host} ${stepTag(event.step, event.index)} ✓ ${formatDuration(event.durationMs)}`];
    case 'step-retrying':
      return [
        `${event.job.host} ${stepTag(event.step)} attempt ${event.attempt} failed: ${oneLine(event.error.message)} — retrying in ${formatDuration(event.delayMs)}`,
      ];
    case 'step-failed': {
      const head = `${event.job.host} ${stepTag(event.step, event.index)} failed: ${oneLine(event.error.message)} — ${leftStateAndDisarm(event.job)}; !retry ${event.job.host} resumes from ${retryStep(event.job, event.step)}`;
      const tail = event.outputTail.slice(-TAIL_SHOWN).map((l) => `  | ${oneLine(l, 200)}`);
      return tail.length ? [head, `${event.job.host} last output:`, ...tail] : [head];
    }
    case 'host-key-changed':
      return [
        `${event.job.host} new SSH host key accepted after reinstall: ${event.fingerprint}${event.previous ? ` (was ${event.previous})` : ''}`,
      ];
    case 'awaiting-approval': {
      const proof = event.job.proof ? ` (${proofSummary(event.job.proof)})` : '';
      return [`${event.job.host} is ready${proof}: !approve ${event.job.host} to enable it in Koji (or !deny ${event.job.host} REASON)`];
    }
    case 'approved': {
      const how = event.auto ? 'auto-approved (rolling.autoApprove)' : `approved by ${who(event.by)}`;
      return [`${event.job.host} ${how}${event.override ? ' with --override' : ''}; enabling in Koji`];
    }
    case 'enabled':
      return [`${event.job.host} is enabled in Koji — reinstall done (job ${event.job.id})`];
    case 'denied':
      return [
        `${event.job.host} denied by ${who(event.by)}${event.reason ? `: ${oneLine(event.reason, 200)}` : ''} — ${leftState(event.job)}`,
      ];
    case 'cancelled': {
      const step = STEP_NAMES[Math.min(event.job.current, TOTAL - 1)]!;
      return [`${event.job.host} cancelled by ${who(event.by)} at ${stepTag(step)} — ${leftStateAndDisarm(event.job)}`];
    }
    case 'notice': {
      const prefix = event.level === 'error' ? 'error: ' : event.level === 'warn' ? 'warning: ' : '';
      return [`${prefix}${oneLine(event.text, 400)}`];
    }
  }
}

/** "12m ago"-style age, from an ISO time. */
export function age(iso: string | undefined, now: Date): string {
  if (!iso) return '?';
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  return ms >= 2 * 86_400_000 ? `${Math.round(ms / 86_400_000)}d` : formatDuration(ms);
}

function stepNow(job: Job): StepRecord | undefined {
  return job.steps[Math.min(job.current, job.steps.length - 1)];
}

/** Where a job is, in a few words: `running [3/8] stage-installer for 1m`, `failed at [5/8] wait-ssh: cause`. */
export function describeJob(job: Job, now: Date): string {
  const step = stepNow(job);
  const tag = step ? stepTag(step.name, Math.min(job.current, TOTAL - 1)) : '';
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
      return `failed at ${job.error ? stepTag(job.error.step) : tag} ${age(job.endedAt, now)} ago${job.error ? `: ${oneLine(job.error.message, 120)}` : ''}${disarmed(job)}`;
    case 'succeeded':
      return `reinstalled ${age(job.endedAt, now)} ago`;
    case 'cancelled':
      return `cancelled ${age(job.endedAt, now)} ago${job.cancel ? ` by ${who(job.cancel.by)}` : ''}${disarmed(job)}`;
    case 'denied':
      return `denied ${age(job.endedAt, now)} ago${job.denial ? ` by ${who(job.denial.by)}` : ''}`;
  }
}

function disarmed(job: Job): string {
  const short = disarmShort(job);
  return short ? `; ${short}` : '';
}

/** When a job started waiting for approval: reboot-verify's end, else its last change. */
export function waitingSince(job: Job): string {
  return job.steps[STEP_NAMES.indexOf('reboot-verify')]?.endedAt ?? job.updatedAt;
}

/** !status: one line per job, active ones first. */
export function renderStatus(jobs: Job[], now: Date): string[] {
  if (!jobs.length) return ['no jobs yet: !reinstall HOST starts one'];
  const active = (j: Job) => ['queued', 'running', 'awaiting-approval', 'enabling'].includes(j.state);
  const sorted = [...jobs.filter(active), ...jobs.filter((j) => !active(j))];
  return sorted.map((j) => `${j.host} ${describeJob(j, now)} (job ${j.id}, by ${who(j.requestedBy)})`);
}

const MARK: Record<StepRecord['status'], string> = {
  pending: '·',
  running: '…',
  succeeded: '✓',
  failed: '✗',
  skipped: '–',
};

/** !status HOST: the job, then each step with its state, time and progress line. */
export function renderJob(job: Job, now: Date): string[] {
  const lines = [`${job.host} job ${job.id}: ${describeJob(job, now)} (by ${who(job.requestedBy)}${job.reason ? `: ${oneLine(job.reason, 120)}` : ''})`];
  job.steps.forEach((s, i) => {
    let time = '';
    if (s.durationMs !== undefined && s.status !== 'running') time = ` ${formatDuration(s.durationMs)}`;
    else if (s.status === 'running' && s.startedAt) time = ` ${age(s.startedAt, now)}`;
    const detail =
      s.status === 'failed' && s.error
        ? ` ${oneLine(s.error.message, 160)}`
        : s.status === 'running' && s.progress
          ? ` — ${oneLine(s.progress, 160)}`
          : s.attempts > 1
            ? ` (${s.attempts} attempts)`
            : '';
    lines.push(`  ${stepTag(s.name, i)} ${MARK[s.status]} ${s.status}${time}${detail}`);
  });
  if (job.hostKey) lines.push(`  host key: ${job.hostKey.accepted}`);
  if (job.proof) lines.push(`  ${proofSummary(job.proof)} (${proofDetail(job.proof)})`);
  if (job.state === 'awaiting-approval') lines.push(`  !approve ${job.host} to enable it in Koji`);
  const disarm = disarmClause(job);
  if (disarm) lines.push(`  ${disarm}${job.disarm?.detail && job.disarm.outcome !== 'failed' && job.disarm.outcome !== 'vm-gone' ? ` (${oneLine(job.disarm.detail, 160)})` : ''}`);
  if (job.state === 'failed') lines.push(`  ${leftState(job)}; !retry ${job.host} resumes from ${retryStep(job)}`);
  return lines;
}

/** !queue: the hosts waiting for approval, oldest first, with how long each has waited. */
export function renderQueue(jobs: Job[], now: Date): string[] {
  if (!jobs.length) return ['no host is waiting for approval'];
  return jobs.map(
    (j, i) =>
      `${i + 1}. ${j.host} waiting ${age(waitingSince(j), now)} (job ${j.id}, by ${who(j.requestedBy)}${j.kojiBefore && !j.kojiBefore.enabled ? '; was disabled before rekick: needs --override' : ''})`,
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
        : `koji: disabled${r.koji.comment ? ` ("${oneLine(r.koji.comment, 80)}")` : ''}`;
    const job = r.job ? `job: ${describeJob(r.job, now)}` : 'job: none';
    const last = r.lastReinstalledAt ? `last reinstall ${age(r.lastReinstalledAt, now)} ago` : 'never reinstalled by rekick';
    return `${r.name} (${r.arch} ${r.kind}) ${koji}; ${job}; ${last}`;
  });
}
