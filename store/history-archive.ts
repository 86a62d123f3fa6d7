/**
 * The history file's side of the lowdb store: which older finished jobs and audit entries have moved out of the
 * state file into the history file beside it, merging them back in at load, and planning each write's moves (an
 * append, or a rewrite with only the live records once most lines are for records no longer kept).
 */
import { StoreError } from '../src/errors';
import { FINISHED_JOB_STATES, type AuditEntry, type Job } from '../src/model';
import { auditRecord, jobRecord, type HistoryContents, type HistoryFile } from './history-file';
import { forgetBytes, jsonBytes } from './json-bytes';
import { splitAudit } from './migrations';
import { documentProblems, type StoreDocument } from './state-document';
import type { StoreState } from './store-state';
import type pino from 'pino';

const FINISHED = new Set<string>(FINISHED_JOB_STATES);

export interface HistoryArchiveOptions {
  /** The state file's path (named in errors). */
  stateFile: string;
  /** Finished jobs kept in the state file before older ones move to the history file. */
  recentFinishedJobs: number;
  /** Security actions kept in the state file before older ones move to the history file. */
  recentAudit: number;
  log?: pino.Logger;
}

/** One write's moves to the history file. */
export interface ArchivePlan {
  /** The history file's write, started (the state file is written only once it is done). */
  historyWrite?: Promise<void>;
  /** Jobs the state file leaves out (they are in the history file). */
  omitJob: (job: Job) => boolean;
  /** The first audit entry the state file keeps. */
  auditFrom: number;
  /** Takes the plan into account once both files are written. */
  commit(): void;
}

export class HistoryArchive {
  /** The version of each job written to the history file (a job changed since, e.g. retried, is written here again). */
  private archived = new Map<string, Job>();
  /** Audit entries numbered below this are in the history file. */
  private auditArchivedTo = 0;
  /** Records in the history file, and whether it must be rewritten before the next append (a torn last line). */
  private records = 0;
  private needsRewrite = false;

  constructor(
    readonly file: HistoryFile,
    private readonly o: HistoryArchiveOptions,
  ) {}

  /** The state file's document with the history file's older jobs and audit entries put back in front. */
  merge(doc: StoreDocument, history: HistoryContents): StoreDocument {
    this.records = history.lines;
    this.needsRewrite = history.tornTail;
    if (history.tornTail) this.o.log?.warn({ file: this.file.file }, 'the history file ends in a cut-short line (a crash mid-write); it is rewritten at the next write');
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
    if (olderRefusals.length) this.needsRewrite = true;
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
        `${this.file.file}: its records do not fit the state file ${this.o.stateFile}; both were left as they are:\n  - ${problems.join('\n  - ')}`,
      );
    }
    return merged;
  }

  /**
   * What a write of the state file moves to the history file, decided from memory (call it before the write's first
   * await): the history write is started, and the plan takes effect (commit) only once both files are written.
   */
  plan(state: StoreState, jobs: Job[]): ArchivePlan {
    const isArchived = (job: Job) => this.archived.get(job.id) === job;
    const move = this.finishedJobsToMove(jobs, isArchived);
    const { first, next } = state.auditSeqs;
    const auditFrom = Math.max(this.auditArchivedTo, first);
    const auditTo = next - auditFrom > 2 * this.o.recentAudit ? next - this.o.recentAudit : auditFrom;

    let historyWrite: Promise<void> | undefined;
    let written: Job[] = []; // jobs this write puts in the history file
    let writtenAudit: Array<{ seq: number; entry: AuditEntry }> = []; // and audit entries
    let records = this.records;
    let archived = this.archived; // copied only when this write changes it (most writes move nothing)
    if (move.length || auditTo > auditFrom || this.needsRewrite) {
      archived = new Map(archived);
      for (const job of move) archived.set(job.id, job);
      const liveJobs = jobs.filter((j) => archived.get(j.id) === j);
      const liveAudit = auditTo - first;
      if (this.needsRewrite || records + move.length + (auditTo - auditFrom) > 2 * (liveJobs.length + liveAudit) + 1000) {
        // Most lines are for records no longer kept (or the last one is torn): write only the live ones.
        writtenAudit = auditEntries(state, first, auditTo);
        const all = [...liveJobs.flatMap((j) => jobRecord(jsonBytes(j))), ...auditRecords(writtenAudit)];
        records = liveJobs.length + liveAudit;
        const live = new Set(liveJobs);
        for (const [id, job] of archived) if (!live.has(job)) archived.delete(id);
        historyWrite = this.file.rewrite(all);
        written = liveJobs;
      } else {
        writtenAudit = auditEntries(state, auditFrom, auditTo);
        const lines = [...move.flatMap((j) => jobRecord(jsonBytes(j))), ...auditRecords(writtenAudit)];
        records += move.length + (auditTo - auditFrom);
        historyWrite = this.file.append(lines);
        written = move;
      }
    }
    return {
      historyWrite,
      omitJob: (j) => archived.get(j.id) === j,
      auditFrom: auditTo,
      commit: () => {
        this.archived = archived;
        this.auditArchivedTo = auditTo;
        this.records = records;
        this.needsRewrite = false;
        for (const job of written) forgetBytes(job); // left out of the state file from now on
        for (const { entry } of writtenAudit) forgetBytes(entry); // (a year of audit entries is kept in memory)
      },
    };
  }

  /** Once the state file holds twice the recent finished jobs it keeps, the oldest go, down to that number. */
  private finishedJobsToMove(jobs: Job[], isArchived: (job: Job) => boolean): Job[] {
    const recent = jobs.filter((j) => FINISHED.has(j.state) && !isArchived(j));
    if (recent.length <= 2 * this.o.recentFinishedJobs) return [];
    const byAge = recent.sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0));
    return byAge.slice(0, recent.length - this.o.recentFinishedJobs);
  }
}

function auditEntries(state: StoreState, from: number, to: number): Array<{ seq: number; entry: AuditEntry }> {
  return state.auditFrom(from).filter(({ seq }) => seq < to);
}

function auditRecords(entries: Array<{ seq: number; entry: AuditEntry }>): Buffer[] {
  return entries.flatMap(({ seq, entry }) => auditRecord(seq, jsonBytes(entry)));
}
