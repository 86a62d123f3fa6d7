/**
 * The store in a JSON file through lowdb. Reads come from memory; every change resolves once the whole document
 * is written atomically and fsynced (AtomicJsonFile). Opening creates a missing file (and its directory), migrates
 * an older schema (keeping a copy of the original beside it), and refuses — without touching it — a file it cannot
 * read, parse or recognise, or one written by a newer rekick.
 *
 * The state file holds the live work: unfinished jobs, the newest finished ones, hosts, the rolling run and the
 * newest audit entries. Older finished jobs and audit entries move to the history file beside it
 * (store/history-file.ts) — appended there, fsynced, before the state file is written without them — so a write
 * costs the same at the end of a fleet's run as at its start. Memory holds both; reads never see the split.
 * The refusal list (small and bounded) lives in the state file only.
 */
import { Low } from 'lowdb';
import { StoreError } from '../src/errors';
import { AtomicJsonFile, JsonChunks, type AtomicFs } from './atomic-json-file';
import { StoreBase, type StoreBaseOptions } from './store-base';
import { MIGRATIONS, migrateDocument, splitAudit, type Migration } from './migrations';
import { ProcessLock } from './process-lock';
import { auditRecord, HistoryFile, historyPathFor, jobRecord, type HistoryContents } from './history-file';
import { documentProblems, emptyDocument, type StoreDocument } from './state-document';
import { forgetBytes, jsonBytes } from './json-bytes';
import type { StoreState } from './store-state';
import { FINISHED_JOB_STATES, type AuditEntry, type Job } from '../src/model';

export interface LowdbStoreOptions extends StoreBaseOptions {
  /** File operations, for tests that make writes fail. */
  fs?: AtomicFs;
  /** For tests of the migration machinery. */
  migrations?: readonly Migration[];
  /** Take the one-process lock beside the file (default true; read-only views pass false). */
  lock?: boolean;
  /** Finished jobs kept in the state file before older ones move to the history file. Default 25. */
  recentFinishedJobs?: number;
  /** Security actions kept in the state file before older ones move to the history file. Default 100. */
  recentAudit?: number;
}

const FINISHED = new Set<string>(FINISHED_JOB_STATES);

export class LowdbStore extends StoreBase {
  readonly file: string;
  private readonly adapter: AtomicJsonFile;
  private readonly db: Low<unknown>;
  private readonly migrations: readonly Migration[];
  private readonly lock?: ProcessLock;
  readonly history: HistoryFile;
  private readonly recentFinishedJobs: number;
  private readonly recentAudit: number;
  /** The version of each job written to the history file (a job changed since, e.g. retried, is written here again). */
  private archived = new Map<string, Job>();
  /** Audit entries numbered below this are in the history file. */
  private auditArchivedTo = 0;
  /** Records in the history file, and whether it must be rewritten before the next append (a torn last line). */
  private historyRecords = 0;
  private historyNeedsRewrite = false;

  constructor(file: string, options: LowdbStoreOptions = {}) {
    super(options);
    this.adapter = new AtomicJsonFile(file, { fs: options.fs, log: options.log });
    this.file = this.adapter.file;
    this.history = new HistoryFile(historyPathFor(this.file), { fs: options.fs, log: options.log });
    this.recentFinishedJobs = options.recentFinishedJobs ?? 25;
    this.recentAudit = options.recentAudit ?? 100;
    if (options.lock !== false) this.lock = new ProcessLock(`${this.file}.lock`);
    this.db = new Low<unknown>(this.adapter, null);
    this.migrations = options.migrations ?? MIGRATIONS;
  }

  protected override async load(): Promise<StoreDocument | null> {
    await this.adapter.ensureDir();
    this.lock?.acquire();
    try {
      return await this.loadLocked();
    } catch (err) {
      this.lock?.release();
      throw err;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.lock?.release();
  }

  private async loadLocked(): Promise<StoreDocument | null> {
    this.db.data = null;
    await this.db.read();
    if (this.db.data === null) {
      const doc = emptyDocument();
      await this.write(doc);
      this.log?.info({ file: this.file }, 'created a new state file');
      return doc;
    }
    const { doc, fromVersion, applied } = migrateDocument(this.db.data, this.file, this.migrations);
    const problems = documentProblems(doc);
    if (problems.length) {
      throw new StoreError(
        `${this.file}: not a usable rekick state file (schema version ${fromVersion}); it was left as it is:\n  - ${problems.join('\n  - ')}`,
      );
    }
    const merged = this.withHistory(doc as unknown as StoreDocument, await this.history.read());
    if (applied.length) {
      const backup = await this.adapter.backup(`v${fromVersion}.bak`);
      await this.write(doc);
      this.log?.info(
        { file: this.file, backup, from: fromVersion, to: doc.schemaVersion, changes: applied.map((m) => m.description) },
        'migrated the state file',
      );
    }
    return merged;
  }

  /** The state file's document with the history file's older jobs and audit entries put back in front. */
  private withHistory(doc: StoreDocument, history: HistoryContents): StoreDocument {
    this.historyRecords = history.lines;
    this.historyNeedsRewrite = history.tornTail;
    if (history.tornTail) this.log?.warn({ file: this.history.file }, 'the history file ends in a cut-short line (a crash mid-write); it is rewritten at the next write');
    this.auditArchivedTo = doc.auditSeq;
    if (history.jobs.size === 0 && history.audit.size === 0) return doc;
    const inState = new Set(doc.jobs.map((j) => j.id));
    const older: Job[] = [];
    for (const [id, job] of history.jobs) {
      this.archived.set(id, job);
      if (!inState.has(id)) older.push(job); // the state file's copy is the newer one
    }
    const olderEntries: AuditEntry[] = [...history.audit.entries()]
      .filter(([seq]) => seq < doc.auditSeq)
      .sort((a, b) => a[0] - b[0])
      .map(([, entry]) => entry);
    // A history file of schema version 3 holds refusals among the audit records: they join the refusal list, and
    // the next write rewrites the history file without them (until then they are read from it again, once).
    const { audit: olderAudit, refusals: olderRefusals } = splitAudit(olderEntries);
    if (olderRefusals.length) this.historyNeedsRewrite = true;
    const merged: StoreDocument = {
      ...doc,
      jobs: [...older, ...doc.jobs],
      auditSeq: doc.auditSeq - olderAudit.length,
      audit: [...olderAudit, ...doc.audit],
      refusals: [...olderRefusals, ...(doc.refusals ?? [])],
    };
    const problems = documentProblems(merged);
    if (problems.length) {
      throw new StoreError(
        `${this.history.file}: its records do not fit the state file ${this.file}; both were left as they are:\n  - ${problems.join('\n  - ')}`,
      );
    }
    return merged;
  }

  protected override async persist(state: StoreState): Promise<void> {
    // Everything is decided from memory before the first await; the plan takes effect only once both files are written.
    const jobs = state.allJobs();
    const isArchived = (job: Job) => this.archived.get(job.id) === job;
    const move = this.finishedJobsToMove(jobs, isArchived);
    const { first, next } = state.auditSeqs;
    const auditFrom = Math.max(this.auditArchivedTo, first);
    const auditTo = next - auditFrom > 2 * this.recentAudit ? next - this.recentAudit : auditFrom;

    let historyWrite: Promise<void> | undefined;
    let written: Job[] = []; // jobs this write puts in the history file
    let writtenAudit: Array<{ seq: number; entry: AuditEntry }> = []; // and audit entries
    let records = this.historyRecords;
    let archived = this.archived; // copied only when this write changes it (most writes move nothing)
    if (move.length || auditTo > auditFrom || this.historyNeedsRewrite) {
      archived = new Map(archived);
      for (const job of move) archived.set(job.id, job);
      const liveJobs = jobs.filter((j) => archived.get(j.id) === j);
      const liveAudit = auditTo - first;
      if (this.historyNeedsRewrite || records + move.length + (auditTo - auditFrom) > 2 * (liveJobs.length + liveAudit) + 1000) {
        // Most lines are for records no longer kept (or the last one is torn): write only the live ones.
        writtenAudit = auditEntries(state, first, auditTo);
        const all = [...liveJobs.flatMap((j) => jobRecord(jsonBytes(j))), ...auditRecords(writtenAudit)];
        records = liveJobs.length + liveAudit;
        const live = new Set(liveJobs);
        for (const [id, job] of archived) if (!live.has(job)) archived.delete(id);
        historyWrite = this.history.rewrite(all);
        written = liveJobs;
      } else {
        writtenAudit = auditEntries(state, auditFrom, auditTo);
        const lines = [...move.flatMap((j) => jobRecord(jsonBytes(j))), ...auditRecords(writtenAudit)];
        records += move.length + (auditTo - auditFrom);
        historyWrite = this.history.append(lines);
        written = move;
      }
    }
    // The serialized pieces, not the document: only what changed since the last write is stringified.
    const chunks = state.toJsonChunks({ jobs, omitJob: (j) => archived.get(j.id) === j, auditFrom: auditTo });
    if (historyWrite) await historyWrite; // first: a record leaves the state file only once the history file has it
    await this.write(new JsonChunks(chunks));
    this.archived = archived;
    this.auditArchivedTo = auditTo;
    this.historyRecords = records;
    this.historyNeedsRewrite = false;
    for (const job of written) forgetBytes(job); // left out of the state file from now on
    for (const { entry } of writtenAudit) forgetBytes(entry); // (a year of audit entries is kept in memory)
  }

  /** Once the state file holds twice the recent finished jobs it keeps, the oldest go, down to that number. */
  private finishedJobsToMove(jobs: Job[], isArchived: (job: Job) => boolean): Job[] {
    const recent = jobs.filter((j) => FINISHED.has(j.state) && !isArchived(j));
    if (recent.length <= 2 * this.recentFinishedJobs) return [];
    const byAge = recent.sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0));
    return byAge.slice(0, recent.length - this.recentFinishedJobs);
  }

  private write(doc: unknown): Promise<void> {
    this.db.data = doc;
    return this.db.write();
  }
}

function auditEntries(state: StoreState, from: number, to: number): Array<{ seq: number; entry: AuditEntry }> {
  return state.auditFrom(from).filter(({ seq }) => seq < to);
}

function auditRecords(entries: Array<{ seq: number; entry: AuditEntry }>): Buffer[] {
  return entries.flatMap(({ seq, entry }) => auditRecord(seq, jsonBytes(entry)));
}
