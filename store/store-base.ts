/**
 * What the lowdb and memory stores share: the Store methods over a StoreState (reads copy, changes go through the
 * WriteQueue and resolve once durable). Refusals are written lazily (RefusalWrites), close() writes what is left:
 * they never cost one write each.
 */
import type pino from 'pino';
import { StoreError } from '../src/errors';
import type { AuditEntry, HostRecord, Job, RollingRun } from '../src/model';
import type { AuditFilter, Frozen, JobFilter, RefusalOptions, Store } from './store';
import type { StoreDocument } from './state-document';
import { cloneJson } from './clone-json';
import { checkedLimits, type StoreLimits } from './store-limits';
import { StoreState } from './store-state';
import type { Undo } from './undo';
import { RefusalWrites } from './refusal-writes';
import { WriteQueue } from './write-queue';

export interface StoreBaseOptions extends Partial<StoreLimits> {
  log?: pino.Logger;
  /** The longest a refusal noted with `flushSoon` waits for a write to carry it (default 60 s). */
  refusalFlushMs?: number;
}

export abstract class StoreBase implements Store {
  protected readonly state: StoreState;
  protected readonly log: pino.Logger | undefined;
  private readonly queue: WriteQueue;
  private isOpen = false;
  private readonly refusalWrites: RefusalWrites;

  constructor(options: StoreBaseOptions = {}) {
    this.state = new StoreState(checkedLimits(options));
    this.log = options.log;
    this.refusalWrites = new RefusalWrites({
      refusals: this.state.refusals,
      ms: options.refusalFlushMs ?? 60_000,
      writeNow: () => this.change(NO_CHANGE),
      isOpen: () => this.isOpen,
      log: this.log,
    });
    this.queue = new WriteQueue(async () => {
      const refusals = this.refusalWrites.version; // persist reads the state before its first await
      await this.persist(this.state);
      this.refusalWrites.carried(refusals);
    }, this.log);
  }

  /** Loads the initial document (null: start empty). */
  protected abstract load(): Promise<StoreDocument | null>;
  /**
   * Makes the state durable. It must read `state` (`toDocument()` or `toJsonChunks()`) before its first await, so
   * later changes to memory do not leak into this write; it rejects when nothing was written.
   */
  protected abstract persist(state: StoreState): Promise<void>;

  get writable(): boolean {
    return this.queue.writable;
  }

  /** How many writes of the document succeeded (each carries every change made since the one before). */
  get documentWrites(): number {
    return this.queue.writes;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const doc = await this.load();
    if (doc) this.state.load(doc);
    this.refusalWrites.carried(this.refusalWrites.version);
    this.isOpen = true;
  }

  /** Waits for queued writes and writes the refusals no write carried yet, then refuses further changes. */
  async close(): Promise<void> {
    this.refusalWrites.cancel();
    if (this.isOpen && this.refusalWrites.dirty) {
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
    if (options.onFlushError) this.refusalWrites.onError = options.onFlushError;
    if (options.flushSoon) this.refusalWrites.schedule();
  }

  /** Resolves when no write is queued or in flight. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private change(apply: () => Undo): Promise<void> {
    if (!this.isOpen) return Promise.reject(new StoreError('the store is not open (open() it first, or it was closed)'));
    return this.queue.change(apply);
  }
}

/** A change that changes nothing: a write for what is in memory but not on disk (the refusal list). */
const NO_CHANGE = (): Undo => () => undefined;

/** A copy of one job or host record for the caller (runs are copied with structuredClone, see getRolling). */
function copy<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : cloneJson(value);
}

function checkJob(job: Job): void {
  if (typeof job?.id !== 'string' || !job.id || typeof job.host !== 'string' || !job.host) {
    throw new StoreError('saveJob: the job needs a non-empty id and host');
  }
}
