/**
 * The history file beside the state file: finished jobs and audit entries that left the state file, one JSON record
 * per line (`{"job":{...}}` or `{"seq":N,"audit":{...}}`), appended as they leave, rewritten whole when mostly stale.
 */
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import type pino from 'pino';
import { StoreError } from '../src/errors';
import type { AuditEntry, Job } from '../src/model';
import { AtomicJsonFile, JsonChunks, writeAll, type AtomicFs } from './atomic-json-file';

export interface HistoryContents {
  /** The last record of each job id, in the order first seen. */
  jobs: Map<string, Job>;
  /** Audit entries by sequence number (the last record of each). */
  audit: Map<number, AuditEntry>;
  /** Lines read (records, duplicates included): how much the file holds. */
  lines: number;
  /** The last line was cut short by a crash: the next write must rewrite the file. */
  tornTail: boolean;
}

/** `rekick.json` → `rekick.history.jsonl` (beside it). */
export function historyPathFor(stateFile: string): string {
  const base = stateFile.endsWith('.json') ? stateFile.slice(0, -'.json'.length) : stateFile;
  return `${base}.history.jsonl`;
}

const JOB_OPEN = Buffer.from('{"job":');
const CLOSE = Buffer.from('}\n');

/** The bytes of one job record, from the job's serialized JSON. */
export function jobRecord(jobJson: Buffer): Buffer[] {
  return [JOB_OPEN, jobJson, CLOSE];
}

/** The bytes of one audit record, from the entry's serialized JSON. */
export function auditRecord(seq: number, entryJson: Buffer): Buffer[] {
  return [Buffer.from(`{"seq":${seq},"audit":`), entryJson, CLOSE];
}

/**
 * Records never change once written, so the file is only appended to (and fsynced) as they leave the state file,
 * and rewritten whole (atomically) when most of its lines are for records the store no longer keeps. This keeps
 * each write of the state file about the size of the live work, not of the fleet's history.
 *
 * A crash mid-append leaves a last line without its newline: it is ignored on reading (the state file still had
 * that record) and the next write rewrites the file. Any other line that is not a record is refused, file
 * untouched.
 */
export class HistoryFile {
  readonly file: string;
  private readonly fs: AtomicFs;
  private readonly atomic: AtomicJsonFile;

  constructor(file: string, options: { fs?: AtomicFs; log?: pino.Logger } = {}) {
    this.file = path.resolve(file);
    this.fs = options.fs ?? nodeFs;
    this.atomic = new AtomicJsonFile(this.file, options);
  }

  async read(): Promise<HistoryContents> {
    const contents: HistoryContents = { jobs: new Map(), audit: new Map(), lines: 0, tornTail: false };
    let text: string;
    try {
      text = await this.fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return contents;
      throw new StoreError(`${this.file}: cannot read the history file (${(err as Error).message}); fix its permissions`, { cause: err });
    }
    const lines = text.split('\n');
    const last = lines.pop()!; // '' when the file ends with a newline
    if (last !== '') contents.tornTail = true;
    lines.forEach((line, i) => {
      if (line === '') return;
      const record = parseRecord(line);
      if (typeof record === 'string') {
        throw new StoreError(
          `${this.file}: line ${i + 1} is not a history record (${record}); it was left as it is: restore a backup, or move the file away (older jobs and audit entries are then forgotten)`,
        );
      }
      contents.lines++;
      if ('job' in record) {
        contents.jobs.delete(record.job.id);
        contents.jobs.set(record.job.id, record.job);
      } else contents.audit.set(record.seq, record.audit);
    });
    return contents;
  }

  /** Appends whole records (each ends with a newline) and fsyncs them; creates the file when missing. */
  async append(records: Buffer[]): Promise<void> {
    try {
      const fh = await this.fs.open(this.file, 'a', 0o600);
      try {
        await writeAll(fh, records);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new StoreError(
        `${this.file}: cannot append to the history file (${e.code ? `${e.code}: ` : ''}${e.message}); free disk space or fix the directory's permissions`,
        { cause: err },
      );
    }
  }

  /** Replaces the whole file by these records, atomically (temp file, fsync, rename, directory fsync). */
  async rewrite(records: Buffer[]): Promise<void> {
    await this.atomic.write(new JsonChunks(records));
  }
}

type HistoryRecord = { job: Job } | { seq: number; audit: AuditEntry };

/** A record, or why the line is not one. */
function parseRecord(line: string): HistoryRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (!value || typeof value !== 'object') return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if ('job' in r) {
    const job = r.job as Partial<Job> | null;
    if (!job || typeof job !== 'object' || typeof job.id !== 'string' || !job.id || typeof job.host !== 'string') {
      return 'a job record without a job id and host';
    }
    return { job: job as Job };
  }
  if ('audit' in r) {
    if (typeof r.seq !== 'number' || !Number.isInteger(r.seq) || r.seq < 0) return 'an audit record without a sequence number';
    if (!r.audit || typeof r.audit !== 'object') return 'an audit record without an entry';
    return { seq: r.seq, audit: r.audit as AuditEntry };
  }
  return 'neither a job nor an audit record';
}
