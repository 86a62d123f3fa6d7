/**
 * What the lowdb and memory stores share: the Store methods over a StoreState, and the write queue. A change is
 * applied to memory at once and resolves once `persist` has made it durable. Writes never overlap: changes made
 * while a write is in flight are coalesced into the next one. When a write fails, every change it carried is
 * rolled back (and rejects with StoreError), changes queued behind it are re-applied on the rolled-back state, and
 * `writable` is false until a write succeeds again.
 *
 * The refusal list is not written by changes of its own: a refusal stays in memory (rolled back by nothing) until
 * the next write carries the whole state; one noted with `flushSoon` makes a write at most `refusalFlushMs` later
 * if none came meanwhile, and close() writes what is left. So refusals never cost one write each.
 */
import type pino from 'pino';
import { StoreError } from '../src/errors';
import type { AuditEntry, HostRecord, Job, RollingRun } from '../src/model';
import type { AuditFilter, Frozen, JobFilter, RefusalOptions, Store } from './store';
import type { StoreDocument } from './state-document';
import { cloneJson } from './clone-json';
import { DEFAULT_LIMITS, StoreState, type StoreLimits } from './store-state';
import type { Undo } from './undo';

export interface DocumentStoreOptions extends Partial<StoreLimits> {
  log?: pino.Logger;
  /** The longest a refusal noted with `flushSoon` waits for a write to carry it (default 60 s). */
  refusalFlushMs?: number;
}

interface Change {
  apply: () => Undo;
  undo: Undo;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export abstract class DocumentStore implements Store {
  protected readonly state: StoreState;
  protected readonly log: pino.Logger | undefined;
  private queued: Change[] = [];
  private inFlight: Change[] | undefined;
  private flushScheduled = false;
  /** How long the last write took, and when it ended: the group-commit window follows the write's own cost. */
  private lastWriteMs = 0;
  private lastWriteEnd = 0;
  /** How many changes the last write carried: the store's load. */
  private lastBatchSize = 0;
  private idle: Array<() => void> = [];
  private isOpen = false;
  private isWritable = true;
  private flushCount = 0;
  /** The refusal list's version that the last successful write carried: it is dirty while they differ. */
  private refusalsWritten = 0;
  private refusalFlush?: NodeJS.Timeout;
  /** Told when a write made for the refusal list fails (see RefusalOptions). */
  private refusalFlushError?: (err: unknown) => void;
  private readonly refusalFlushMs: number;

  constructor(options: DocumentStoreOptions = {}) {
    const limits: StoreLimits = {
      keepFinishedPerHost: options.keepFinishedPerHost ?? DEFAULT_LIMITS.keepFinishedPerHost,
      maxAudit: options.maxAudit ?? DEFAULT_LIMITS.maxAudit,
      auditMaxAge: options.auditMaxAge ?? DEFAULT_LIMITS.auditMaxAge,
      refusalsMax: options.refusalsMax ?? DEFAULT_LIMITS.refusalsMax,
    };
    for (const [name, value] of Object.entries(limits)) {
      if (!(value >= 0)) throw new StoreError(`store limit ${name} must be zero or more, got ${String(value)}`);
    }
    this.state = new StoreState(limits);
    this.log = options.log;
    this.refusalFlushMs = options.refusalFlushMs ?? 60_000;
  }

  /** Loads the initial document (null: start empty). */
  protected abstract load(): Promise<StoreDocument | null>;
  /**
   * Makes the state durable. It must read `state` (`toDocument()` or `toJsonChunks()`) before its first await, so
   * later changes to memory do not leak into this write; it rejects when nothing was written.
   */
  protected abstract persist(state: StoreState): Promise<void>;

  get writable(): boolean {
    return this.isWritable;
  }

  /** How many writes of the document succeeded (each carries every change made since the one before). */
  get documentWrites(): number {
    return this.flushCount;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const doc = await this.load();
    if (doc) this.state.load(doc);
    this.refusalsWritten = this.state.refusals.version;
    this.isOpen = true;
  }

  /** Waits for queued writes and writes the refusals no write carried yet, then refuses further changes. */
  async close(): Promise<void> {
    clearTimeout(this.refusalFlush);
    this.refusalFlush = undefined;
    if (this.isOpen && this.refusalsDirty) {
      await this.change(NO_CHANGE).catch((err: unknown) => this.log?.error({ err }, 'the refusals noted since the last write could not be written at close'));
    }
    await this.whenIdle();
    this.isOpen = false;
  }

  getJob(id: string): Job | undefined {
    return copy(this.state.getJob(id));
  }

  activeJob(host: string): Job | undefined {
    return copy(this.state.activeJob(host));
  }

  listJobs(filter?: JobFilter): Job[] {
    return this.state.listJobs(filter).map((j) => cloneJson(j));
  }

  peekJob(id: string): Frozen<Job> | undefined {
    return this.state.getJob(id);
  }

  peekJobs(filter?: JobFilter): readonly Frozen<Job>[] {
    return this.state.listJobs(filter);
  }

  async saveJob(job: Job): Promise<void> {
    checkJob(job);
    const mine = cloneJson(job);
    return this.change(() => this.state.putJob(mine));
  }

  async saveJobs(jobs: Job[]): Promise<void> {
    jobs.forEach(checkJob);
    const mine = cloneJson(jobs);
    return this.change(() => this.state.putJobs(mine));
  }

  getHost(name: string): HostRecord | undefined {
    return copy(this.state.getHost(name));
  }

  peekHost(name: string): Frozen<HostRecord> | undefined {
    return this.state.getHost(name);
  }

  listHosts(): HostRecord[] {
    return this.state.listHosts().map((h) => cloneJson(h));
  }

  async saveHost(record: HostRecord): Promise<void> {
    if (typeof record?.name !== 'string' || !record.name) throw new StoreError('saveHost: the record has no name');
    const mine = cloneJson(record);
    return this.change(() => this.state.putHost(mine));
  }

  getRolling(): RollingRun | undefined {
    // structuredClone, not cloneJson: a run's host maps have a key per host (see clone-json.ts).
    const run = this.state.getRolling();
    return run === undefined ? undefined : structuredClone(run);
  }

  async saveRolling(run: RollingRun | undefined): Promise<void> {
    const mine = run === undefined ? undefined : structuredClone(run);
    return this.change(() => this.state.setRolling(mine));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    if (entry?.outcome !== 'ok') {
      this.noteRefusal(entry, { flushSoon: true });
      return;
    }
    const mine = cloneJson(entry);
    return this.change(() => this.state.appendAudit(mine));
  }

  listAudit(filter?: AuditFilter): AuditEntry[] {
    return this.state.listAudit(filter).map((e) => cloneJson(e));
  }

  noteRefusal(entry: AuditEntry, options: RefusalOptions = {}): void {
    if (!this.isOpen) {
      this.log?.warn({ refusal: entry }, 'a refusal came after the store was closed; it is only in this log');
      return;
    }
    this.state.noteRefusal(cloneJson(entry));
    if (options.onFlushError) this.refusalFlushError = options.onFlushError;
    if (options.flushSoon) this.scheduleRefusalFlush();
  }

  /** Refusals noted that no successful write has carried yet. */
  private get refusalsDirty(): boolean {
    return this.state.refusals.version !== this.refusalsWritten;
  }

  /** One write for the refusals of the next while, unless another write carries them first; retried while it fails. */
  private scheduleRefusalFlush(): void {
    if (this.refusalFlush || !this.isOpen) return;
    this.refusalFlush = setTimeout(() => {
      this.refusalFlush = undefined;
      if (!this.isOpen || !this.refusalsDirty) return;
      this.change(NO_CHANGE).catch((err: unknown) => {
        this.log?.warn({ err }, 'could not write the refusal list; trying again later');
        this.scheduleRefusalFlush();
        this.refusalFlushError?.(err);
      });
    }, this.refusalFlushMs);
    this.refusalFlush.unref?.();
  }

  /** Resolves when no write is queued or in flight. */
  whenIdle(): Promise<void> {
    if (!this.inFlight && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private change(apply: () => Undo): Promise<void> {
    if (!this.isOpen) return Promise.reject(new StoreError('the store is not open (open() it first, or it was closed)'));
    const undo = apply();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ apply, undo, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.inFlight || this.flushScheduled) return;
    this.flushScheduled = true;
    const go = () => {
      this.flushScheduled = false;
      void this.flush();
    };
    // Group commit: changes made in the same tick go out in one write, and after a costly write (a large store
    // under many jobs) the next one waits up to ten times that cost (at most 50 ms), so more changes share it and
    // the store does not take the whole CPU. Each change still resolves only once it is on disk.
    // A quiet store (the last write carried a change or two: one command's job) writes at once, so a chain of
    // durable steps (job, then the host's state before the disable) is not held back by a window nothing shares.
    const busy = this.lastBatchSize >= BUSY_BATCH;
    const wait = busy ? Math.min(MAX_GROUP_WINDOW_MS, GROUP_WINDOW_FACTOR * this.lastWriteMs) - (Date.now() - this.lastWriteEnd) : 0;
    if (wait > 1) setTimeout(go, wait);
    else queueMicrotask(go);
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queued.length === 0) return;
    const batch = (this.inFlight = this.queued);
    this.queued = [];
    let failure: StoreError | undefined;
    const started = Date.now();
    const refusals = this.state.refusals.version; // persist reads the state before its first await
    try {
      await this.persist(this.state);
      this.refusalsWritten = refusals;
      this.lastWriteEnd = Date.now();
      this.lastWriteMs = this.lastWriteEnd - started;
      this.lastBatchSize = batch.length;
      this.flushCount++;
    } catch (err) {
      failure = err instanceof StoreError ? err : new StoreError(`could not write the state: ${String(err)}`, { cause: err });
    }
    if (failure) {
      this.rollBack(batch);
      this.isWritable = false;
      this.log?.error({ err: failure, changes: batch.length }, 'state write failed; the changes were rolled back');
      for (const c of batch) c.reject(failure);
    } else {
      if (!this.isWritable) this.log?.info('state writes succeed again');
      this.isWritable = true;
      for (const c of batch) c.resolve();
    }
    this.inFlight = undefined;
    if (this.queued.length) this.scheduleFlush();
    else for (const done of this.idle.splice(0)) done();
  }

  /** Undoes the queued changes and the failed batch (newest first), then re-applies the queued ones. */
  private rollBack(batch: Change[]): void {
    for (const c of [...this.queued].reverse()) c.undo();
    for (const c of [...batch].reverse()) c.undo();
    for (const c of this.queued) c.undo = c.apply();
  }
}

/** A change that changes nothing: a write for what is in memory but not on disk (the refusal list). */
const NO_CHANGE = (): Undo => () => undefined;

/** A write that carried this many changes or more means a busy store: the next write waits for others to join. */
const BUSY_BATCH = 3;
/** The longest a change waits for others to share its write. */
const MAX_GROUP_WINDOW_MS = 50;
/**
 * The group-commit window, as a multiple of the last write's duration: a busy store writes at most ~1/(1+this) of
 * the time. 10 (was 2): in the 1,000-host fleet run, 3,018 -> 950-1,320 writes of the ~430 KiB state file and
 * ~2.5 ms less CPU per host; a change still waits at most MAX_GROUP_WINDOW_MS, and a quiet store writes at once.
 */
const GROUP_WINDOW_FACTOR = 10;

/** A copy of one job or host record for the caller (runs are copied with structuredClone, see getRolling). */
function copy<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : cloneJson(value);
}

function checkJob(job: Job): void {
  if (typeof job?.id !== 'string' || !job.id || typeof job.host !== 'string' || !job.host) {
    throw new StoreError('saveJob: the job needs a non-empty id and host');
  }
}
