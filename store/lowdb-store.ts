/**
 * The store in a JSON file through lowdb, with the history file beside it for older finished jobs and audit
 * entries (history-archive.ts). Reads come from memory; every change resolves once written atomically and fsynced.
 */
import { Low } from 'lowdb';
import { StoreError } from '../src/errors';
import { AtomicJsonFile, JsonChunks, type AtomicFs } from './atomic-json-file';
import { StoreBase, type StoreBaseOptions } from './store-base';
import { HistoryArchive } from './history-archive';
import { MIGRATIONS, migrateDocument, type Migration } from './migrations';
import { ProcessLock } from './process-lock';
import { HistoryFile, historyPathFor } from './history-file';
import { documentProblems, emptyDocument, type StoreDocument } from './state-document';
import type { StoreState } from './store-state';

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

/**
 * Opening creates a missing file (and its directory), migrates an older schema (keeping a copy of the original
 * beside it), and refuses — without touching it — a file it cannot read, parse or recognise, or one written by a
 * newer rekick.
 *
 * The state file holds the live work: unfinished jobs, the newest finished ones, hosts, the rolling run and the
 * newest audit entries. Older finished jobs and audit entries move to the history file — appended there, fsynced,
 * before the state file is written without them — so a write costs the same at the end of a fleet's run as at its
 * start. Memory holds both; reads never see the split. The refusal list (small and bounded) lives in the state file
 * only.
 */
export class LowdbStore extends StoreBase {
  readonly file: string;
  private readonly adapter: AtomicJsonFile;
  private readonly db: Low<unknown>;
  private readonly migrations: readonly Migration[];
  private readonly lock?: ProcessLock;
  readonly history: HistoryFile;
  private readonly archive: HistoryArchive;

  constructor(file: string, options: LowdbStoreOptions = {}) {
    super(options);
    this.adapter = new AtomicJsonFile(file, { fs: options.fs, log: options.log });
    this.file = this.adapter.file;
    this.history = new HistoryFile(historyPathFor(this.file), { fs: options.fs, log: options.log });
    this.archive = new HistoryArchive(this.history, {
      stateFile: this.file,
      recentFinishedJobs: options.recentFinishedJobs ?? 25,
      recentAudit: options.recentAudit ?? 100,
      log: options.log,
    });
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
    const merged = this.archive.merge(doc as unknown as StoreDocument, await this.history.read());
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

  protected override async persist(state: StoreState): Promise<void> {
    // Everything is decided from memory before the first await; the plan takes effect only once both files are written.
    const jobs = state.allJobs();
    const plan = this.archive.plan(state, jobs);
    // The serialized pieces, not the document: only what changed since the last write is stringified.
    const chunks = state.toJsonChunks({ jobs, omitJob: plan.omitJob, auditFrom: plan.auditFrom });
    if (plan.historyWrite) await plan.historyWrite; // first: a record leaves the state file only once the history file has it
    await this.write(new JsonChunks(chunks));
    plan.commit();
  }

  private write(doc: unknown): Promise<void> {
    this.db.data = doc;
    return this.db.write();
  }
}
