/**
 * The Store: rekick's persistent state (jobs with their steps, approvals as job state, per-host records, the
 * rolling run and the audit trail). Every method that changes state resolves only once the change is durable
 * (written atomically to disk for the lowdb store), so a SIGKILL after it resolves loses nothing.
 */
import type { AuditEntry, HostRecord, Job, JobState, RollingRun } from '../src/types';

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
  since?: string;
  limit?: number;
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

  appendAudit(entry: AuditEntry): Promise<void>;
  /** Oldest first (the order they were appended); `limit` keeps the newest entries that match. */
  listAudit(filter?: AuditFilter): AuditEntry[];

  /** Whether the last write succeeded; false after a failed write until one succeeds again. */
  readonly writable: boolean;
}
