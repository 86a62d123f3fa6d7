/**
 * The store's state in memory: jobs (JobIndex), host records, the rolling run, the security actions
 * (AuditActions) and the refusal list. Every change returns an `Undo` that puts back exactly what it replaced, so
 * a write that fails can be rolled back and memory never claims what the disk does not hold. Compaction (finished
 * jobs per host, audit length) happens inside the change that makes it due, so it is rolled back with it too.
 */
import type { AuditEntry, HostRecord, Job, RollingRun } from '../src/model';
import { AuditActions } from './audit-actions';
import { JobIndex } from './job-index';
import { COMMA, memberBytes } from './json-bytes';
import { mergeByTime, RefusalList } from './refusal-list';
import { stateJsonChunks, type DocumentPart } from './state-json';
import type { AuditFilter, JobFilter } from './store';
import { DEFAULT_LIMITS, type StoreLimits } from './store-limits';
import { CURRENT_SCHEMA_VERSION, type StoreDocument } from './state-document';
import type { Undo } from './undo';


export class StoreState {
  private readonly jobs: JobIndex;
  private hosts = new Map<string, HostRecord>();
  /** The serialized members of `hosts` (`"name":{...},...`), until a host record changes. */
  private hostsBytes: Buffer | undefined;
  private rolling: RollingRun | undefined;
  private readonly audit: AuditActions;
  /** Refused and failed commands, apart from the security actions above (never part of a change's undo). */
  readonly refusals: RefusalList;

  constructor(limits: StoreLimits = DEFAULT_LIMITS, now: () => number = Date.now) {
    this.jobs = new JobIndex(limits.keepFinishedPerHost);
    this.audit = new AuditActions(limits, now);
    this.refusals = new RefusalList(limits.refusalsMax);
  }

  /** Replaces the whole state by a (validated) document, compacting it to the limits. */
  load(doc: StoreDocument): void {
    this.jobs.load(doc.jobs);
    this.hosts = new Map(Object.entries(doc.hosts));
    this.hostsBytes = undefined;
    this.rolling = doc.rolling ?? undefined;
    this.audit.load(doc.audit, doc.auditSeq ?? 0);
    this.refusals.load(doc.refusals ?? []);
  }

  /** The sequence number the next audit entry gets, and that of the oldest one kept. */
  get auditSeqs(): { first: number; next: number } {
    return this.audit.seqs;
  }

  /** The audit entries from sequence number `from` on (oldest first), each with its number. */
  auditFrom(from: number): Array<{ seq: number; entry: AuditEntry }> {
    return this.audit.from(from);
  }

  /** Every job, in the order first saved. */
  allJobs(): Job[] {
    return this.jobs.all();
  }

  /** A snapshot for writing. Stored objects are never changed in place, so sharing them is safe. */
  toDocument(): StoreDocument {
    return {
      schemaVersion: CURRENT_SCHEMA_VERSION,
      jobs: this.allJobs(),
      hosts: Object.fromEntries(this.hosts),
      rolling: this.rolling ?? null,
      auditSeq: this.audit.seqs.first,
      audit: this.audit.all().slice(),
      ...(this.refusals.all().length ? { refusals: this.refusals.all().slice() } : {}),
    };
  }

  /**
   * The same document as `toDocument()`, as the bytes of its compact JSON, in pieces (see state-json.ts).
   * Call it synchronously: the pieces reflect the state at the call.
   */
  toJsonChunks(part: DocumentPart = {}): Buffer[] {
    return stateJsonChunks(
      {
        jobs: () => this.allJobs(),
        hostMembers: this.hostMembers(),
        rolling: this.rolling,
        audit: this.audit.all(),
        auditBase: this.audit.seqs.first,
        refusals: this.refusals.all(),
      },
      part,
    );
  }

  // ---- reads: the caller clones ----

  getJob(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  activeJob(host: string): Job | undefined {
    return this.jobs.active(host);
  }

  listJobs(filter: JobFilter = {}): Job[] {
    return this.jobs.list(filter);
  }

  getHost(name: string): HostRecord | undefined {
    return this.hosts.get(name);
  }

  listHosts(): HostRecord[] {
    return [...this.hosts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getRolling(): RollingRun | undefined {
    return this.rolling;
  }

  /** Security actions and refusals by time, oldest first, or one `kind`; `limit` keeps the newest entries that match. */
  listAudit(filter: AuditFilter = {}): AuditEntry[] {
    const actions = filter.kind === 'refusals' ? [] : this.audit.matching(filter);
    const refusals = filter.kind === 'actions' ? [] : this.refusals.list(filter);
    const matched = refusals.length ? mergeByTime(actions, refusals) : actions;
    return filter.limit !== undefined ? matched.slice(Math.max(0, matched.length - Math.max(0, filter.limit))) : matched;
  }

  // ---- changes: each takes ownership of its argument (the caller passes a copy) and returns its undo ----

  putJobs(jobs: Job[]): Undo {
    return this.jobs.putAll(jobs);
  }

  putJob(job: Job): Undo {
    return this.jobs.put(job);
  }

  putHost(record: HostRecord): Undo {
    const prev = this.hosts.get(record.name);
    this.hosts.set(record.name, record);
    this.hostsBytes = undefined;
    return () => {
      if (prev) this.hosts.set(record.name, prev);
      else this.hosts.delete(record.name);
      this.hostsBytes = undefined;
    };
  }

  setRolling(run: RollingRun | undefined): Undo {
    const prev = this.rolling;
    this.rolling = run;
    return () => {
      this.rolling = prev;
    };
  }

  /** Appends a security action; the oldest beyond maxAudit, and those older than auditMaxAge, are dropped. */
  appendAudit(entry: AuditEntry): Undo {
    return this.audit.append(entry);
  }

  /** Refusals are not changes with an undo: one stays in memory until a write carries it (see StoreBase). */
  noteRefusal(entry: AuditEntry): void {
    this.refusals.note(entry);
  }

  /** The hosts object's members as one piece: most writes change no host record, and the fleet's are many. */
  private hostMembers(): Buffer {
    if (!this.hostsBytes) {
      const parts: Buffer[] = [];
      for (const [name, record] of this.hosts) {
        if (parts.length) parts.push(COMMA);
        parts.push(memberBytes(name, record));
      }
      this.hostsBytes = Buffer.concat(parts);
    }
    return this.hostsBytes;
  }
}
