/**
 * Refusals from outside (no identity rekick can trust; see audit-kind.ts), counted instead of stored one by one:
 * totals for the metric, rate-limited log lines, and one summary a minute in the refusal list.
 */
import type { Logger } from 'pino';
import type { AuditEntry } from '../model';
import { OUTSIDE_REASON_TEXT, SLACK_REQUEST_ACTION, type OutsideReason, type OutsideRefusal, type OutsideSource } from './audit-kind';

export interface OutsideRefusalsOptions {
  log: Logger;
  /** Takes each minute's summary entry (the store's noteRefusal, without flushSoon). */
  note?: (summary: AuditEntry) => void;
  /** The length of a window: at most one summing-up line per window, source and reason (default 60 s). */
  windowMs?: number;
}

export interface OutsideRefusalTotal {
  source: OutsideSource;
  reason: OutsideReason;
  count: number;
}

interface Window {
  kind: OutsideRefusal;
  /** When the window's first refusal came (ISO), or when the window opened for a flood that goes on. */
  since: string;
  /** Refusals in this window, and how many of them were logged one by one (the first of a quiet spell). */
  count: number;
  logged: number;
  last?: AuditEntry;
  timer: NodeJS.Timeout;
}

/**
 * The counter of refusals from outside:
 * - a total by source and reason, for the metric `rekick_outside_refusals_total`;
 * - a log line at a limited rate: the first refusal of a source and reason is logged at once; those that follow
 *   within a minute are only counted, and summed up in one line at the end of that minute (and so on each minute
 *   while they keep coming);
 * - one summary entry per minute and reason in the store's refusal list (`note`), which the store writes with its
 *   next write: never a write of its own, so nothing an outsider sends costs one.
 */
export class OutsideRefusals {
  private readonly log: Logger;
  private readonly note?: (summary: AuditEntry) => void;
  private readonly windowMs: number;
  private readonly totals = new Map<string, OutsideRefusalTotal>();
  private readonly windows = new Map<string, Window>();

  constructor(options: OutsideRefusalsOptions) {
    this.log = options.log;
    this.note = options.note;
    this.windowMs = options.windowMs ?? 60_000;
  }

  /** Counts one refusal from outside; logs it when it is the first of its kind in a while. */
  record(entry: AuditEntry, kind: OutsideRefusal): void {
    const key = `${kind.source}\0${kind.reason}`;
    const total = this.totals.get(key);
    if (total) total.count++;
    else this.totals.set(key, { ...kind, count: 1 });
    const open = this.windows.get(key);
    if (open) {
      if (open.count === 0) open.since = entry.at;
      open.count++;
      open.last = entry;
      return;
    }
    this.log.warn(
      { source: kind.source, reason: kind.reason, who: entry.who, origin: entry.origin, action: entry.action, detail: entry.detail },
      `refused from outside (${kind.source}, ${kind.reason}): ${entry.detail ?? entry.action}; more of these within a minute are counted (rekick_outside_refusals_total) and summed up in one line`,
    );
    this.windows.set(key, { kind, since: entry.at, count: 1, logged: 1, last: entry, timer: this.arm(key) });
  }

  /** The totals since the start, by source and reason. */
  counts(): OutsideRefusalTotal[] {
    return [...this.totals.values()].map((t) => ({ ...t }));
  }

  /** Sums up every open window now (at shutdown, before the store closes) and stops the timers. */
  flush(): void {
    for (const key of [...this.windows.keys()]) this.close(key, false);
  }

  private arm(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.close(key, true), this.windowMs);
    timer.unref?.();
    return timer;
  }

  private close(key: string, goOn: boolean): void {
    const w = this.windows.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.windows.delete(key);
    const { source, reason } = w.kind;
    const unlogged = w.count - w.logged;
    if (unlogged > 0) {
      this.log.warn(
        { source, reason, count: unlogged, since: w.since, lastDetail: w.last?.detail },
        `refused from outside (${source}, ${reason}): ${unlogged} more since ${w.since}; the last: ${w.last?.detail ?? w.last?.action}`,
      );
    }
    if (w.count > 0 && w.last) {
      this.note?.({
        at: w.since,
        lastAt: w.last.at,
        count: w.count,
        who: { source: source === 'other' ? w.last.who.source : source, display: 'unidentified' },
        action: source === 'slack' ? SLACK_REQUEST_ACTION : 'chat',
        outcome: 'refused',
        detail: OUTSIDE_REASON_TEXT[reason],
      });
    }
    // A flood that goes on: the next minute's refusals are summed up too, not logged one by one again.
    if (goOn && unlogged > 0) {
      this.windows.set(key, { kind: w.kind, since: new Date().toISOString(), count: 0, logged: 0, timer: this.arm(key) });
    }
  }
}
