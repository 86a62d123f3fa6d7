/**
 * The state document as the bytes of its compact JSON (what `JSON.stringify` of the document gives), in pieces:
 * each stored object's bytes come from the jsonBytes cache, so a write under a large fleet costs the changed
 * objects, not the whole store.
 */
import type { AuditEntry, Job, RollingRun } from '../src/model';
import { jsonBytes, NULL, pushList, COMMA } from './json-bytes';
import { CURRENT_SCHEMA_VERSION } from './state-document';

/** Which part of the state a document written by `toJsonChunks` holds (the rest is kept elsewhere). */
export interface DocumentPart {
  /** Jobs left out of the document. */
  omitJob?: (job: Job) => boolean;
  /** `allJobs()`, when the caller has it already (saves sorting again). */
  jobs?: Job[];
  /** The sequence number of the first audit entry written (older ones are left out). */
  auditFrom?: number;
}

/** The state's pieces, as StoreState holds them. */
export interface StateParts {
  jobs: () => Job[];
  /** The hosts object's members (`"name":{...},...`), already joined. */
  hostMembers: Buffer;
  rolling: RollingRun | undefined;
  audit: readonly AuditEntry[];
  /** The sequence number of `audit[0]`. */
  auditBase: number;
  refusals: readonly AuditEntry[];
}

export function stateJsonChunks(s: StateParts, part: DocumentPart = {}): Buffer[] {
  const chunks: Buffer[] = [Buffer.from(`{"schemaVersion":${CURRENT_SCHEMA_VERSION},"jobs":[`)];
  let firstJob = true;
  for (const job of part.jobs ?? s.jobs()) {
    if (part.omitJob?.(job)) continue;
    if (!firstJob) chunks.push(COMMA);
    chunks.push(jsonBytes(job));
    firstJob = false;
  }
  chunks.push(Buffer.from('],"hosts":{'), s.hostMembers);
  const auditFrom = Math.max(part.auditFrom ?? s.auditBase, s.auditBase);
  chunks.push(Buffer.from('},"rolling":'), s.rolling ? jsonBytes(s.rolling) : NULL, Buffer.from(`,"auditSeq":${auditFrom},"audit":[`));
  pushList(chunks, s.audit.slice(auditFrom - s.auditBase));
  chunks.push(Buffer.from(']'));
  if (s.refusals.length) {
    chunks.push(Buffer.from(',"refusals":['));
    pushList(chunks, s.refusals);
    chunks.push(Buffer.from(']'));
  }
  chunks.push(Buffer.from('}\n'));
  return chunks;
}
