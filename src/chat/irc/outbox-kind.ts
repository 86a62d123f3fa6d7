/**
 * What an outgoing message is to the IRC outbox: which lines are urgent, which are replies, and which are
 * progress that a backlog may summarise.
 */
import { formatDuration } from '../../present/duration';
import type { OutgoingMessage } from '../chat-adapter';
import { stepTag } from '../../present/step-tag';

/**
 * For a progress line a backlog may fold: the host and its short state. Failures, approvals, enables, denials,
 * cancels, host key changes, notices and replies return undefined: they are always sent verbatim.
 */
export function progressState(message: OutgoingMessage): { host: string; state: string } | undefined {
  if (message.kind !== 'progress' || !message.event) return undefined;
  const e = message.event;
  switch (e.type) {
    case 'job-queued':
      return { host: e.job.host, state: 'queued' };
    case 'step-started':
      return { host: e.job.host, state: `${stepTag(e.step, e.index)} started` };
    case 'step-succeeded':
      return { host: e.job.host, state: `${stepTag(e.step, e.index)} ok ${formatDuration(e.durationMs)}` };
    case 'step-progress':
      return { host: e.job.host, state: `${stepTag(e.step)} waiting` };
    case 'step-retrying':
      return { host: e.job.host, state: `${stepTag(e.step)} retry ${e.attempt}` };
    default:
      return undefined;
  }
}

/** Events whose lines go ahead of everything else in the outbox: a failure, an approval prompt, a new host key. */
const URGENT_EVENTS = new Set(['step-failed', 'awaiting-approval', 'host-key-changed']);

export type OutboxKind = { kind: 'urgent'; host?: string; state?: string } | { kind: 'reply' } | { kind: 'event' };

/**
 * How the outbox treats a message: `urgent` (failures, approval prompts, host keys, warnings and errors: sent
 * first, never dropped by the reply cap; with the host and, for a waiting summary naming it, its new state),
 * `reply` (answers to commands and refusals: capped, since anyone can ask for them) or `event` (other job and
 * rolling lines: in order, progress summarised when a backlog builds).
 */
export function outboxKind(message: OutgoingMessage): OutboxKind {
  if (message.kind === 'reply') return { kind: 'reply' };
  const e = message.event;
  if (e?.type === 'notice') return e.level === 'info' ? { kind: 'event' } : { kind: 'urgent' };
  if (message.kind === 'notice' && !e) return { kind: 'urgent' };
  if (!e || !URGENT_EVENTS.has(e.type) || !('job' in e)) return { kind: 'event' };
  if (e.type === 'step-failed') return { kind: 'urgent', host: e.job.host, state: `${stepTag(e.step, e.index)} failed` };
  if (e.type === 'awaiting-approval') return { kind: 'urgent', host: e.job.host, state: 'ready, waiting for approval' };
  return { kind: 'urgent', host: e.job.host };
}
