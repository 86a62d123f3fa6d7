/**
 * The Store: rekick's persistent state (jobs with their steps, approvals as job state, per-host records, the
 * rolling run and the audit trail). Every method that changes state resolves only once the change is durable
 * (written atomically to disk for the lowdb store), so a SIGKILL after it resolves loses nothing. The one
 * exception is the refusal list (refused and failed commands): it is kept apart from the security actions and
 * written lazily, with the next write, never with a write of each refusal's own.
 */
import type { AuditEntry, HostRecord, Job, JobState, RollingRun } from '../src/model';

/** A stored object as the store holds it: to read, never to change (no copy was made). */
export type Frozen<T> = T extends (infer U)[] ? readonly Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

export interface JobFilter {
  host?: string;
  states?: readonly JobState[];
  /** Newest first, at most this many. */
  limit?: number;
}

export interface AuditFilter {
  host?: string;
  /** Entries at or after this instant (a coalesced refusal: its last occurrence). */
  since?: string;
  limit?: number;
  /** Only the security actions, or only the refusal list; both, by time, when absent. */
  kind?: 'actions' | 'refusals';
}

export interface RefusalOptions {
  /** Write the refusal list a short while later, unless another write carries it first. */
  flushSoon?: boolean;
  /** Told when that write fails (the store is then not writable until a write succeeds). */
  onFlushError?: (err: unknown) => void;
}

export interface Store {
  /** Reads the file (creating it when absent). Refuses a file it cannot read or parse: never overwrites it. */
  open(): Promise<void>;
  close(): Promise<void>;

  /** Reads return deep copies: changing them never changes the store. */
  getJob(id: string): Job | undefined;
  /** The job of this host that is not finished, if any. */
  activeJob(host: string): Job | undefined;
  listJobs(filter?: JobFilter): Job[];
  /**
   * getJob and listJobs without the copy, for scans over the whole fleet (a rolling run's every pass): the store's
   * own objects, typed read-only. Stored objects are replaced on change, never changed in place.
   */
  peekJob(id: string): Frozen<Job> | undefined;
  peekJobs(filter?: JobFilter): readonly Frozen<Job>[];
  /** Inserts or replaces the job (by id), durably. */
  saveJob(job: Job): Promise<void>;
  /** Inserts or replaces several jobs in one durable write (all or nothing). */
  saveJobs(jobs: Job[]): Promise<void>;

  getHost(name: string): HostRecord | undefined;
  /** getHost without the copy (the store's own record, read-only), for scans over the whole fleet. */
  peekHost(name: string): Frozen<HostRecord> | undefined;
  listHosts(): HostRecord[];
  saveHost(record: HostRecord): Promise<void>;

  getRolling(): RollingRun | undefined;
  saveRolling(run: RollingRun | undefined): Promise<void>;

  /**
   * Appends a security action (outcome `ok`), durably; the oldest beyond the size limit and those past the age
   * limit are dropped, never because of refusals. An entry with another outcome is a refusal: it goes to
   * `noteRefusal` (and resolves at once, before it is written).
   */
  appendAudit(entry: AuditEntry): Promise<void>;
  /**
   * The audit trail as `rekick audit` shows it: the security actions (in the order appended) and the refusal list,
   * by time, oldest first; `kind` for one of them; `limit` keeps the newest entries that match.
   */
  listAudit(filter?: AuditFilter): AuditEntry[];
  /**
   * Keeps a refused or failed command in the refusal list (bounded, the oldest dropped, repeats coalesced). It is
   * written with the next write of the store; with `flushSoon` at the latest a short while later (one write for all
   * the refusals of that while); at close in any case. It never fails: a refusal is not worth refusing work for.
   * A write made for `flushSoon` that fails (it is tried again later) is told to `onFlushError`, as nobody awaits it.
   */
  noteRefusal(entry: AuditEntry, options?: RefusalOptions): void;

  /** Whether the last write succeeded; false after a failed write until one succeeds again. */
  readonly writable: boolean;
}
