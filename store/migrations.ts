/**
 * Schema migrations of the state file: an ordered list of steps `from -> to`, each a pure function of the parsed
 * document. `migrateDocument` runs the ones a file needs, and refuses a file written by a newer rekick (a higher
 * version than this build knows) rather than guess at it.
 */
import { StoreError } from '../src/errors';
import { CURRENT_SCHEMA_VERSION } from './state-document';

export interface Migration {
  from: number;
  to: number;
  /** What changed, for the log line. */
  description: string;
  migrate(doc: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    to: 2,
    description: 'hosts become an object keyed by host name; a missing rolling run becomes null',
    migrate(doc) {
      const list = Array.isArray(doc.hosts) ? (doc.hosts as Array<{ name?: unknown }>) : [];
      const hosts: Record<string, unknown> = {};
      for (const h of list) if (h && typeof h.name === 'string') hosts[h.name] = h;
      return { ...doc, schemaVersion: 2, hosts, rolling: doc.rolling ?? null };
    },
  },
  {
    from: 2,
    to: 3,
    description: 'older finished jobs and audit entries may move to the history file; the audit trail gets sequence numbers',
    migrate(doc) {
      return { ...doc, schemaVersion: 3, auditSeq: 0 };
    },
  },
  {
    from: 3,
    to: 4,
    description: 'the audit trail splits: security actions (outcome ok) stay in "audit", refused and failed commands move to "refusals"',
    migrate(doc) {
      if (!Array.isArray(doc.audit)) return { ...doc, schemaVersion: 4 }; // for the document check to name
      const { audit, refusals } = splitAudit(doc.audit as unknown[]);
      return { ...doc, schemaVersion: 4, audit, ...(refusals.length ? { refusals } : {}) };
    },
  },
];

/**
 * Version 3 kept one audit list (in the state file and in the history file). Security actions are the entries whose
 * outcome is `ok`; the others (refusals, a command's internal error) go to the refusal list, in their order. Entries
 * that are not objects are left in `audit` for the document check to name.
 */
export function splitAudit<T>(entries: readonly T[]): { audit: T[]; refusals: T[] } {
  const isRefusal = (e: T) => {
    const outcome = e && typeof e === 'object' ? (e as { outcome?: unknown }).outcome : undefined;
    return typeof outcome === 'string' && outcome !== 'ok';
  };
  return { audit: entries.filter((e) => !isRefusal(e)), refusals: entries.filter(isRefusal) };
}

export interface MigrationResult {
  doc: Record<string, unknown>;
  /** The version the file had; equal to the current version when nothing ran. */
  fromVersion: number;
  applied: Migration[];
}

/**
 * Brings a parsed document to `target`. Throws StoreError (naming `file`) when the document has no usable
 * schemaVersion, is newer than `target`, or no migration leads from its version.
 */
export function migrateDocument(
  raw: unknown,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
  target: number = CURRENT_SCHEMA_VERSION,
): MigrationResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StoreError(`${file}: not a rekick state file (expected a JSON object); move it away or fix the "store" path`);
  }
  let doc = raw as Record<string, unknown>;
  const version = doc.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new StoreError(`${file}: not a rekick state file (no valid "schemaVersion"); move it away or fix the "store" path`);
  }
  if (version > target) {
    throw new StoreError(
      `${file}: written by a newer rekick (schema version ${version}, this one knows up to ${target}); upgrade rekick or restore an older copy of the file`,
    );
  }
  const applied: Migration[] = [];
  let at = version;
  while (at < target) {
    const step = migrations.find((m) => m.from === at);
    if (!step || step.to <= at || step.to > target) {
      throw new StoreError(`${file}: no migration from schema version ${at} to ${target}; this rekick cannot read the file`);
    }
    doc = step.migrate(doc);
    if (doc.schemaVersion !== step.to) doc = { ...doc, schemaVersion: step.to };
    applied.push(step);
    at = step.to;
  }
  return { doc, fromVersion: version, applied };
}
