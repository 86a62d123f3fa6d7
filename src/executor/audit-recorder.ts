/**
 * The executor's audit trail (src/audit/audit-kind.ts). A security action (outcome `ok`) is durable when audit()
 * resolves, and kept apart from refusals; one that could not be written is kept and appended once the store works
 * again. A refusal of someone rekick can tell goes to the store's refusal list, written with a later write; a refusal
 * from outside (no trustworthy identity) is only counted and logged at a limited rate.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import { outsideRefusal } from '../audit/audit-kind';
import { OutsideRefusals } from '../audit/outside-refusals';
import type { AuditEntry } from '../model';

export class AuditRecorder {
  /** Refusals from outside (no identity rekick can trust): counted and summed up, never stored one by one. */
  readonly outsideRefusals: OutsideRefusals;
  /** Audit entries that could not be written while the store was broken, appended once it works again. */
  private readonly pending: AuditEntry[] = [];

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onStoreFailure: (err: unknown) => void,
  ) {
    this.outsideRefusals = new OutsideRefusals({ log, note: (summary) => store.noteRefusal(summary) });
  }

  async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    const full: AuditEntry = { at: new Date().toISOString(), ...entry };
    const outside = outsideRefusal(full);
    if (outside) {
      this.outsideRefusals.record(full, outside);
      return;
    }
    this.log.info({ audit: full }, `audit: ${entry.action} ${entry.outcome}`);
    if (full.outcome !== 'ok') {
      // Its write is nobody's to await: a failure of it is a store failure all the same.
      this.store.noteRefusal(full, { flushSoon: true, onFlushError: (err) => this.onStoreFailure(err) });
      return;
    }
    try {
      await this.store.appendAudit(full);
    } catch (err) {
      // Kept, and appended once the store works again: a security action during a full disk is still audited.
      this.pending.push(full);
      this.onStoreFailure(err);
    }
  }

  /** Appends the entries kept while the store was broken (the store works again). */
  async flushPending(): Promise<void> {
    for (const entry of this.pending.splice(0)) await this.audit(entry);
  }
}
