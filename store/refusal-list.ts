/**
 * The refusal list: refused or failed commands, kept apart from the security actions so that no number of them can
 * push a security action out. It is small and bounded (the oldest go first), and a refusal that repeats one of the
 * last few (same who, where, what and why) is coalesced into it: its count goes up and it moves to the end.
 * Entries are replaced, never changed in place (their serialized bytes are cached by identity, see jsonBytes).
 */
import type { AuditEntry } from '../src/model';
import type { AuditFilter } from './store';

/** How many of the newest entries a new refusal is compared with for coalescing. */
const COALESCE_WINDOW = 16;

export class RefusalList {
  private entries: AuditEntry[] = [];
  /** Counts every change: the store compares it with the value its last successful write carried. */
  private changes = 0;

  constructor(private readonly max: number) {}

  get version(): number {
    return this.changes;
  }

  /** Replaces the list (a loaded document), keeping the newest `max`. */
  load(entries: readonly AuditEntry[]): void {
    this.entries = this.max > 0 ? entries.slice(-this.max) : [];
  }

  /** Oldest first. */
  all(): readonly AuditEntry[] {
    return this.entries;
  }

  /** Adds a refusal (taking ownership of it), or counts it into a recent one like it; drops the oldest beyond max. */
  note(entry: AuditEntry): void {
    if (this.max === 0) return; // kept nowhere: nothing changes, nothing to write
    this.changes++;
    const key = keyOf(entry);
    const from = Math.max(0, this.entries.length - COALESCE_WINDOW);
    for (let i = this.entries.length - 1; i >= from; i--) {
      const known = this.entries[i]!;
      if (keyOf(known) !== key) continue;
      const merged: AuditEntry = { ...known, count: (known.count ?? 1) + (entry.count ?? 1), lastAt: entry.lastAt ?? entry.at };
      this.entries.splice(i, 1);
      this.entries.push(merged);
      return;
    }
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
  }

  /** Those of `host`, whose last occurrence is at or after `since`, by their first occurrence (`at`), oldest first. */
  list(filter: Pick<AuditFilter, 'host' | 'since'> = {}): AuditEntry[] {
    return this.entries
      .filter((e) => (filter.host === undefined || e.host === filter.host) && (filter.since === undefined || (e.lastAt ?? e.at) >= filter.since))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }
}

/** Security actions and refusals, each list oldest first, as one list by time (the action first at the same instant). */
export function mergeByTime(actions: readonly AuditEntry[], refusals: readonly AuditEntry[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  let j = 0;
  for (const a of actions) {
    while (j < refusals.length && refusals[j]!.at < a.at) out.push(refusals[j++]!);
    out.push(a);
  }
  for (; j < refusals.length; j++) out.push(refusals[j]!);
  return out;
}

const keys = new WeakMap<AuditEntry, string>();

/** What makes two refusals the same refusal: who (by identity), where, what and why. Entries never change: cached. */
function keyOf(e: AuditEntry): string {
  let key = keys.get(e);
  if (key === undefined) {
    key = JSON.stringify([e.who.source, e.who.id ?? null, e.who.id ? null : e.who.display, e.origin?.adapter, e.origin?.room, e.action, e.host, e.outcome, e.detail]);
    keys.set(e, key);
  }
  return key;
}
