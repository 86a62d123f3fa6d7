/**
 * The security actions of the audit trail in memory, numbered: every entry ever appended has a sequence number,
 * counting up, so the history file can hold the older ones. Bounded by count and by age (the oldest dropped);
 * an append returns the `Undo` that puts back what it dropped.
 */
import type { AuditEntry } from '../src/model';
import type { AuditFilter } from './store';
import type { Undo } from './undo';

export interface AuditLimits {
  maxAudit: number;
  /** Entries older than this (ms) are dropped on append and on load; Infinity keeps them whatever their age. */
  auditMaxAge: number;
}

export class AuditActions {
  private entries: AuditEntry[] = [];
  /** The sequence number of `entries[0]`. */
  private base = 0;

  constructor(
    private readonly limits: AuditLimits,
    private readonly now: () => number,
  ) {}

  /** Replaces the entries (a loaded document's, the first numbered `seq`), dropping those past the limits. */
  load(entries: readonly AuditEntry[], seq: number): void {
    const dropped = Math.max(entries.length - this.limits.maxAudit, this.tooOld(entries, 0));
    this.entries = entries.slice(dropped);
    this.base = seq + dropped;
  }

  /** The sequence number the next audit entry gets, and that of the oldest one kept. */
  get seqs(): { first: number; next: number } {
    return { first: this.base, next: this.base + this.entries.length };
  }

  /** Every entry kept, oldest first (the stored objects). */
  all(): readonly AuditEntry[] {
    return this.entries;
  }

  /** The entries from sequence number `from` on (oldest first), each with its number. */
  from(from: number): Array<{ seq: number; entry: AuditEntry }> {
    const start = Math.max(0, from - this.base);
    return this.entries.slice(start).map((entry, i) => ({ seq: this.base + start + i, entry }));
  }

  /** The entries a filter's host and since match, oldest first. */
  matching(filter: AuditFilter): AuditEntry[] {
    return this.entries.filter((e) => (filter.host === undefined || e.host === filter.host) && (filter.since === undefined || e.at >= filter.since));
  }

  /** Appends an entry; the oldest beyond maxAudit, and those older than auditMaxAge, are dropped. */
  append(entry: AuditEntry): Undo {
    this.entries.push(entry);
    const excess = Math.max(this.entries.length - this.limits.maxAudit, this.tooOld(this.entries, 1));
    const dropped = excess > 0 ? this.entries.splice(0, excess) : [];
    this.base += dropped.length;
    return () => {
      this.entries.pop();
      if (dropped.length) this.entries.unshift(...dropped);
      this.base -= dropped.length;
    };
  }

  /**
   * How many entries at the front of the list are older than auditMaxAge (the list is in the order appended, so
   * by time); the last `keep` entries are never counted (an entry just appended stays, whatever its clock said).
   */
  private tooOld(entries: readonly AuditEntry[], keep: number): number {
    if (!Number.isFinite(this.limits.auditMaxAge)) return 0;
    const cutoff = new Date(this.now() - this.limits.auditMaxAge).toISOString();
    let n = 0;
    while (n < entries.length - keep && entries[n]!.at < cutoff) n++;
    return n;
  }
}
