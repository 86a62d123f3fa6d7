/**
 * The state file's document: its current schema version, an empty one, and a structural check of what was read
 * (after migration) so a damaged file is refused with a list of what is wrong instead of crashing later.
 */
import { z } from 'zod';
import { FINISHED_JOB_STATES, ACTIVE_JOB_STATES } from '../src/model';
import type { AuditEntry, HostRecord, Job, RollingRun } from '../src/model';

/** Bump it together with a new entry in migrations.ts. */
export const CURRENT_SCHEMA_VERSION = 4;

export interface StoreDocument {
  schemaVersion: number;
  /** Oldest first (the order they were first saved). */
  jobs: Job[];
  /** Keyed by host name. */
  hosts: Record<string, HostRecord>;
  rolling: RollingRun | null;
  /**
   * The sequence number of `audit[0]`. The state file keeps the newest audit entries and recent jobs; older ones
   * live in the history file beside it (store/history-file.ts), which holds the entries numbered below this.
   */
  auditSeq: number;
  /** The security actions (outcome `ok`), oldest first. */
  audit: AuditEntry[];
  /**
   * Refused and failed commands, oldest first (by last occurrence); kept in the state file only, a bounded few.
   * Absent when there are none.
   */
  refusals?: AuditEntry[];
}

export function emptyDocument(): StoreDocument {
  return { schemaVersion: CURRENT_SCHEMA_VERSION, jobs: [], hosts: {}, rolling: null, auditSeq: 0, audit: [] };
}

const jobState = z.enum([...ACTIVE_JOB_STATES, ...FINISHED_JOB_STATES] as [string, ...string[]]);
const identity = z.looseObject({ source: z.string(), display: z.string() });
const auditEntry = z.looseObject({ at: z.string(), who: identity, action: z.string(), outcome: z.string() });

const jobShape = z.looseObject({
  id: z.string().min(1),
  host: z.string().min(1),
  state: jobState,
  createdAt: z.string(),
  updatedAt: z.string(),
  requestedBy: identity,
  origin: z.looseObject({ adapter: z.string(), room: z.string() }),
  options: z.looseObject({}),
  steps: z.array(z.looseObject({ name: z.string(), status: z.string(), attempts: z.number() })),
  current: z.number().int(),
  data: z.looseObject({}),
});

const documentShape = z.object({
  schemaVersion: z.literal(CURRENT_SCHEMA_VERSION),
  jobs: z.array(jobShape),
  hosts: z.record(z.string(), z.looseObject({ name: z.string().min(1) })),
  rolling: z
    .looseObject({ id: z.string(), state: z.string(), order: z.array(z.string()), jobs: z.record(z.string(), z.string()) })
    .nullable(),
  auditSeq: z.number().int().min(0),
  audit: z.array(auditEntry),
  refusals: z.array(auditEntry.extend({ count: z.number().int().min(1).optional(), lastAt: z.string().optional() })).optional(),
});

/** The problems of a (migrated) document, each as `path: message`; empty when it has the right shape. */
export function documentProblems(doc: unknown): string[] {
  const result = documentShape.safeParse(doc);
  if (result.success) return duplicateJobIds(doc as StoreDocument);
  return result.error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : '(document)'}: ${i.message}`);
}

function duplicateJobIds(doc: StoreDocument): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const job of doc.jobs) {
    if (seen.has(job.id)) problems.push(`jobs: job id ${job.id} appears more than once`);
    seen.add(job.id);
  }
  return problems;
}
