/**
 * `createStore(path, options)`: the lowdb store for a file path, or the memory store for ':memory:'.
 */
import { LowdbStore, type LowdbStoreOptions } from './lowdb-store';
import { MemoryStore } from './memory-store';
import type { Store } from './store';

export type CreateStoreOptions = LowdbStoreOptions;

export function createStore(path: string, options: CreateStoreOptions = {}): Store {
  return path === ':memory:' ? new MemoryStore(options) : new LowdbStore(path, options);
}

export { LowdbStore } from './lowdb-store';
export { MemoryStore } from './memory-store';
export type { Store, JobFilter, AuditFilter } from './store';
