/**
 * Slack rendering of a job: the parent message's text and Block Kit blocks (a compact step table, and Approve /
 * Deny buttons while the job awaits approval). Pure functions; mrkdwn special characters escaped.
 */
import { formatDuration } from '../../present/duration';
import type { Job, StepRecord } from '../../model';
import { proofSummary } from '../../present/proof';
import { disarmClause } from '../../present/disarm';
import { stepOrdinal, stepTag } from '../../present/step-tag';

export const APPROVE_ACTION = 'rekick_approve';
export const DENY_ACTION = 'rekick_deny';
export const APPROVAL_BLOCK = 'rekick_approval';

/** Slack's mrkdwn needs &, < and > escaped; nothing else. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const MARK: Record<StepRecord['status'], string> = {
  pending: '·',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '–',
};

function stepTime(step: StepRecord, now: Date): string {
  if (step.durationMs !== undefined) return formatDuration(step.durationMs);
  if (step.status === 'running' && step.startedAt) return `${formatDuration(Math.max(0, now.getTime() - Date.parse(step.startedAt)))}…`;
  return '';
}

/** One line per step: mark, number, name, state, time (monospace). */
export function stepTable(job: Job, now: Date): string {
  const width = Math.max(...job.steps.map((s) => s.name.length));
  return job.steps
    .map((s, i) => {
      const state = s.status === 'succeeded' ? 'ok' : s.status;
      const time = stepTime(s, now);
      return `${MARK[s.status]} ${stepOrdinal(i)} ${s.name.padEnd(width)}  ${state.padEnd(9)} ${time}`.trimEnd();
    })
    .join('\n');
}

const STATE_WORDS: Record<Job['state'], string> = {
  queued: 'queued',
  running: 'running',
  'awaiting-approval': 'ready, awaiting approval',
  enabling: 'enabling',
  succeeded: 'done, enabled in Koji',
  failed: 'failed',
  cancelled: 'cancelled',
  denied: 'denied, left disabled',
};

/** The parent message's plain text (notifications, clients without blocks). */
export function parentText(job: Job): string {
  const current = job.steps[job.current];
  const at = current && job.state === 'running' ? `, ${stepTag(current.name, job.current)}` : '';
  const approve = job.state === 'awaiting-approval' ? ` — approvers: !approve ${job.host}` : '';
  return `reinstall of ${job.host}: ${STATE_WORDS[job.state]}${at}${approve}`;
}

export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

/** The parent message's blocks: header, step table, the failure in one line, and the approval buttons. */
export function parentBlocks(job: Job, now: Date): SlackBlock[] {
  const blocks: SlackBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*${escapeMrkdwn(job.host)}* reinstall — ${escapeMrkdwn(STATE_WORDS[job.state])} (job \`${escapeMrkdwn(job.id)}\`, asked by ${escapeMrkdwn(job.requestedBy.display)})` },
    },
    { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${escapeMrkdwn(stepTable(job, now))}\`\`\`` } },
  ];
  if (job.error) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `failed at ${escapeMrkdwn(job.error.step)}: ${escapeMrkdwn(job.error.message.slice(0, 300))}` }] });
  }
  if (job.proof) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(proofSummary(job.proof)) }] });
  const disarm = disarmClause(job);
  if (disarm) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(disarm) }] });
  if (job.state === 'awaiting-approval') {
    blocks.push({
      type: 'actions',
      block_id: APPROVAL_BLOCK,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', value: buttonValue(job), text: { type: 'plain_text', text: 'Approve' } },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', value: buttonValue(job), text: { type: 'plain_text', text: 'Deny' } },
      ],
    });
  }
  return blocks;
}

/** What an Approve/Deny button carries: the job its message was posted for, and the host. */
export function buttonValue(job: Job): string {
  return JSON.stringify({ job: job.id, host: job.host });
}

/**
 * The host and job a clicked button names. A plain host name is a button posted before buttons named their job
 * (no `jobId`: the command refuses it); anything else is not rekick's (undefined).
 */
export function parseButtonValue(value: string | undefined): { host: string; jobId?: string } | undefined {
  if (!value) return undefined;
  if (!value.startsWith('{')) return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) ? { host: value } : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined; // not JSON: not a value rekick wrote
  }
  const v = parsed as { job?: unknown; host?: unknown };
  return typeof v.job === 'string' && typeof v.host === 'string' ? { host: v.host, jobId: v.job } : undefined;
}
