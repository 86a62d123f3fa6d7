/**
 * The store in a JSON file through lowdb. Reads come from memory; every change resolves once the whole document
 * is written atomically and fsynced (AtomicJsonFile). Opening creates a missing file (and its directory), migrates
 * an older schema (keeping a copy of the original beside it), and refuses — without touching it — a file it cannot
 * read, parse or recognise, or one written by a newer rekick.
 */
import { Low } from 'lowdb';
import { StoreError } from '../src/errors';
import { AtomicJsonFile, JsonChunks, type AtomicFs } from './atomic-json-file';
import { DocumentStore, type DocumentStoreOptions } from './document-store';
import { MIGRATIONS, migrateDocument, type Migration } from './migrations';
import { ProcessLock } from './process-lock';
import { documentProblems, emptyDocument, type StoreDocument } from './store-document';
import type { StoreState } from './store-state';

export interface LowdbStoreOptions extends DocumentStoreOptions {
  /** File operations, for tests that make writes fail. */
  fs?: AtomicFs;
  /** For tests of the migration machinery. */
  migrations?: readonly Migration[];
  /** Take the one-process lock beside the file (default true; read-only views pass false). */
  lock?: boolean;
}

export class LowdbStore extends DocumentStore {
  readonly file: string;
  private readonly adapter: AtomicJsonFile;
  private readonly db: Low<unknown>;
  private readonly migrations: readonly Migration[];
  private readonly lock?: ProcessLock;

  constructor(file: string, options: LowdbStoreOptions = {}) {
    super(options);
    this.adapter = new AtomicJsonFile(file, { fs: options.fs, log: options.log });
    this.file = this.adapter.file;
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
    if (applied.length) {
      const backup = await this.adapter.backup(`v${fromVersion}.bak`);
      await this.write(doc);
      this.log?.info(
        { file: this.file, backup, from: fromVersion, to: doc.schemaVersion, changes: applied.map((m) => m.description) },
        'migrated the state file',
      );
    }
    return doc as unknown as StoreDocument;
  }

  protected override async persist(state: StoreState): Promise<void> {
    // The serialized pieces, not the document: only what changed since the last write is stringified.
    await this.write(new JsonChunks(state.toJsonChunks()));
  }

  private write(doc: unknown): Promise<void> {
    this.db.data = doc;
    return this.db.write();
  }
}
