/**
 * What an audit entry is, for where it goes: a security action (kept durably), a refusal of someone rekick can
 * tell (the store's small refusal list), or a refusal from outside (counted and logged, never stored one by one).
 */
import type { AuditEntry, SourceKind } from '../model';

/** The action of a Slack request refused by the request guard (src/chat/slack/request-guard.ts). */
export const SLACK_REQUEST_ACTION = 'slack-request';

export const OUTSIDE_REASONS = ['unsigned', 'stale', 'bad-signature', 'replay', 'too-large', 'foreign-team', 'no-account', 'unconfirmed', 'other'] as const;
export type OutsideReason = (typeof OUTSIDE_REASONS)[number];
/** The reasons of a chat line without a trustworthy identity (the others are a Slack request's, refused at the door). */
export const CHAT_LINE_REASONS: readonly OutsideReason[] = ['no-account', 'unconfirmed'];

/** The sources a refusal from outside is counted under (the metric's `source` label). */
export const OUTSIDE_SOURCES = ['slack', 'irc', 'console', 'cli', 'rolling', 'http', 'other'] as const;
export type OutsideSource = (typeof OUTSIDE_SOURCES)[number];

/** Each reason in words, for the log line and the refusal list's summary entry. */
export const OUTSIDE_REASON_TEXT: Record<OutsideReason, string> = {
  unsigned: 'unsigned request (no signature or timestamp)',
  stale: 'stale timestamp',
  'bad-signature': 'bad signature',
  replay: 'replayed request',
  'too-large': 'body too large',
  'foreign-team': 'request from another Slack team',
  'no-account': 'not logged in to services (no account)',
  unconfirmed: 'services account could not be confirmed (WHOIS)',
  other: 'refused',
};

export interface OutsideRefusal {
  source: OutsideSource;
  reason: OutsideReason;
}

/**
 * The source and reason of a refusal from outside, or undefined when the entry is not one. An audit entry is:
 * - a security action (outcome `ok`: a reinstall, an approval, a cancel, a rolling run started…): kept durably in
 *   the audit trail, never pushed out by refusals;
 * - a refusal of someone rekick can tell (an IRC services account, a verified Slack user, the console): kept in the
 *   store's small refusal list, written lazily;
 * - a refusal from outside, with no identity rekick can trust: a Slack request refused at the door (unsigned,
 *   stale, bad signature, replayed, too large, another workspace) or a line from an IRC user not logged in to
 *   services, or whose services account rekick could not confirm (`Identity.unconfirmed`: WHOIS timed out, answered
 *   for another user…; counted apart, as `unconfirmed`, since a rate of them is more often rekick's WHOIS in trouble).
 *   These are counted (by source and reason, a bounded set) and logged at a limited rate, never stored one by one,
 *   so nothing an outsider sends costs a write.
 */
export function outsideRefusal(entry: Pick<AuditEntry, 'who' | 'action' | 'outcome' | 'detail'>): OutsideRefusal | undefined {
  if (entry.outcome === 'ok') return undefined;
  if (entry.action === SLACK_REQUEST_ACTION) return { source: 'slack', reason: slackReason(entry.detail ?? '') };
  if (!entry.who.id) return { source: sourceLabel(entry.who.source), reason: entry.who.unconfirmed ? 'unconfirmed' : 'no-account' };
  return undefined;
}

/**
 * The reason of a refused Slack request, from the guard's detail, which starts with why (the wordings of
 * src/chat/slack/request-guard.ts: "unsigned request …", "stale timestamp …", "bad signature", "replayed …",
 * "body too large …", "other workspace: team T…, rekick serves T…" or "other workspace: no team id, …").
 */
function slackReason(detail: string): OutsideReason {
  if (/^unsigned/i.test(detail)) return 'unsigned';
  if (/^stale/i.test(detail)) return 'stale';
  if (/^bad signature/i.test(detail)) return 'bad-signature';
  if (/^replayed/i.test(detail)) return 'replay';
  if (/^body too large/i.test(detail)) return 'too-large';
  if (/^other workspace:/i.test(detail)) return 'foreign-team';
  return 'other';
}

function sourceLabel(source: SourceKind | string): OutsideSource {
  return (OUTSIDE_SOURCES as readonly string[]).includes(source) ? (source as OutsideSource) : 'other';
}
