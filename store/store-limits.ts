/** How much the store keeps in memory (finished jobs per host, audit entries by count and age, refusals). */
import { StoreError } from '../src/errors';

export interface StoreLimits {
  /** Finished jobs kept per host, newest first; unfinished jobs are always kept. */
  keepFinishedPerHost: number;
  /** Security actions (audit entries) kept; the oldest are dropped. */
  maxAudit: number;
  /**
   * Security actions older than this (ms) are dropped when an entry is appended and when the state is loaded.
   * Infinity (the store's default; the config's is 400 days) keeps them whatever their age.
   */
  auditMaxAge: number;
  /** Entries of the refusal list kept (after coalescing); the oldest are dropped. 0 keeps none. */
  refusalsMax: number;
}

export const DEFAULT_LIMITS: StoreLimits = { keepFinishedPerHost: 20, maxAudit: 100_000, auditMaxAge: Infinity, refusalsMax: 200 };

/** The limits asked for, the defaults for the rest; refuses a negative (or NaN) one. */
export function checkedLimits(options: Partial<StoreLimits>): StoreLimits {
  const limits: StoreLimits = {
    keepFinishedPerHost: options.keepFinishedPerHost ?? DEFAULT_LIMITS.keepFinishedPerHost,
    maxAudit: options.maxAudit ?? DEFAULT_LIMITS.maxAudit,
    auditMaxAge: options.auditMaxAge ?? DEFAULT_LIMITS.auditMaxAge,
    refusalsMax: options.refusalsMax ?? DEFAULT_LIMITS.refusalsMax,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!(value >= 0)) throw new StoreError(`store limit ${name} must be zero or more, got ${String(value)}`);
  }
  return limits;
}
