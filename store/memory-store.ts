/**
 * The store without a file, for tests and dry runs: the same semantics as the lowdb store (deep copies, ordering,
 * compaction, serialized writes, rollback of a failed write). `failWrites(err)` makes every write fail until it is
 * called again without an error, so others can test how they behave when the store is not writable.
 */
import { StoreError } from '../src/errors';
import { StoreBase, type StoreBaseOptions } from './store-base';
import type { StoreDocument } from './state-document';
import type { StoreState } from './store-state';

export type MemoryStoreOptions = StoreBaseOptions;

export class MemoryStore extends StoreBase {
  private failure: Error | undefined;
  /** How many writes succeeded (each may carry several coalesced changes). */
  writes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
  }

  /** Makes every following write fail with this error (a StoreError when only a message is given); none to stop. */
  failWrites(err?: Error | string): void {
    this.failure = typeof err === 'string' ? new StoreError(err) : err;
  }

  protected override async load(): Promise<StoreDocument | null> {
    return null;
  }

  protected override async persist(_state: StoreState): Promise<void> {
    if (this.failure) throw this.failure;
    this.writes++;
  }
}
