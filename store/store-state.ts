/**
 * The store's state in memory: jobs indexed by id and by host, host records, the rolling run and the audit trail.
 * Every change returns an `Undo` that puts back exactly what it replaced, so a write that fails can be rolled back
 * and memory never claims what the disk does not hold. Compaction (finished jobs per host, audit length) happens
 * inside the change that makes it due, so it is rolled back with it too.
 */
import { ACTIVE_JOB_STATES } from '../src/model';
import type { AuditEntry, HostRecord, Job, RollingRun } from '../src/model';
import { mergeByTime, RefusalList } from './refusal-list';
import type { AuditFilter, JobFilter } from './store';
import { CURRENT_SCHEMA_VERSION, type StoreDocument } from './state-document';

export type Undo = () => void;

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

const ACTIVE = new Set(ACTIVE_JOB_STATES);

interface Slot {
  job: Job;
  /** Insertion order: breaks ties between jobs created at the same instant (later saved = newer). */
  seq: number;
}

/** Which part of the state a document written by `toJsonChunks` holds (the rest is kept elsewhere). */
export interface DocumentPart {
  /** Jobs left out of the document. */
  omitJob?: (job: Job) => boolean;
  /** `allJobs()`, when the caller has it already (saves sorting again). */
  jobs?: Job[];
  /** The sequence number of the first audit entry written (older ones are left out). */
  auditFrom?: number;
}

export class StoreState {
  private readonly jobs = new Map<string, Slot>();
  private readonly byHost = new Map<string, Map<string, Slot>>();
  private hosts = new Map<string, HostRecord>();
  /** The serialized members of `hosts` (`"name":{...},...`), until a host record changes. */
  private hostsBytes: Buffer | undefined;
  private rolling: RollingRun | undefined;
  private audit: AuditEntry[] = [];
  /** The sequence number of `audit[0]`: every audit entry ever appended has one, counting up. */
  private auditBase = 0;
  private nextSeq = 0;
  /** Refused and failed commands, apart from the security actions above (never part of a change's undo). */
  readonly refusals: RefusalList;

  constructor(
    private readonly limits: StoreLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.refusals = new RefusalList(limits.refusalsMax);
  }

  /** Replaces the whole state by a (validated) document, compacting it to the limits. */
  load(doc: StoreDocument): void {
    this.jobs.clear();
    this.byHost.clear();
    this.nextSeq = 0;
    for (const job of doc.jobs) this.setSlot(job.id, { job, seq: this.nextSeq++ });
    for (const host of this.byHost.keys()) this.compactHost(host);
    this.hosts = new Map(Object.entries(doc.hosts));
    this.hostsBytes = undefined;
    this.rolling = doc.rolling ?? undefined;
    const dropped = Math.max(doc.audit.length - this.limits.maxAudit, this.tooOld(doc.audit, 0));
    this.audit = doc.audit.slice(dropped);
    this.auditBase = (doc.auditSeq ?? 0) + dropped;
    this.refusals.load(doc.refusals ?? []);
  }

  /** The sequence number the next audit entry gets, and that of the oldest one kept. */
  get auditSeqs(): { first: number; next: number } {
    return { first: this.auditBase, next: this.auditBase + this.audit.length };
  }

  /** The audit entries from sequence number `from` on (oldest first), each with its number. */
  auditFrom(from: number): Array<{ seq: number; entry: AuditEntry }> {
    const start = Math.max(0, from - this.auditBase);
    return this.audit.slice(start).map((entry, i) => ({ seq: this.auditBase + start + i, entry }));
  }

  /** Every job, in the order first saved. */
  allJobs(): Job[] {
    const slots = [...this.jobs.values()];
    // Insertion order is save order except after an undo put a job back: sort only then.
    for (let i = 1; i < slots.length; i++) {
      if (slots[i]!.seq < slots[i - 1]!.seq) {
        slots.sort((a, b) => a.seq - b.seq);
        break;
      }
    }
    return slots.map((s) => s.job);
  }

  /** The hosts object's members as one piece: most writes change no host record, and the fleet's are many. */
  private hostMembers(): Buffer {
    if (!this.hostsBytes) {
      const parts: Buffer[] = [];
      for (const [name, record] of this.hosts) {
        if (parts.length) parts.push(COMMA);
        parts.push(memberBytes(name, record));
      }
      this.hostsBytes = Buffer.concat(parts);
    }
    return this.hostsBytes;
  }

  /** A snapshot for writing. Stored objects are never changed in place, so sharing them is safe. */
  toDocument(): StoreDocument {
    return {
      schemaVersion: CURRENT_SCHEMA_VERSION,
      jobs: this.allJobs(),
      hosts: Object.fromEntries(this.hosts),
      rolling: this.rolling ?? null,
      auditSeq: this.auditBase,
      audit: this.audit.slice(),
      ...(this.refusals.all().length ? { refusals: this.refusals.all().slice() } : {}),
    };
  }

  /**
   * The same document as `toDocument()`, as the bytes of its compact JSON (what `JSON.stringify` gives), in
   * pieces: each job, host record and audit entry is serialized once, when first written, and its bytes reused by
   * every later write (stored objects are never changed in place). A write under a large fleet thus costs the
   * changed objects, not the whole store. Call it synchronously: the pieces reflect the state at the call.
   */
  toJsonChunks(part: DocumentPart = {}): Buffer[] {
    const chunks: Buffer[] = [Buffer.from(`{"schemaVersion":${CURRENT_SCHEMA_VERSION},"jobs":[`)];
    let firstJob = true;
    for (const job of part.jobs ?? this.allJobs()) {
      if (part.omitJob?.(job)) continue;
      if (!firstJob) chunks.push(COMMA);
      chunks.push(jsonBytes(job));
      firstJob = false;
    }
    chunks.push(Buffer.from('],"hosts":{'), this.hostMembers());
    const auditFrom = Math.max(part.auditFrom ?? this.auditBase, this.auditBase);
    chunks.push(
      Buffer.from('},"rolling":'),
      this.rolling ? jsonBytes(this.rolling) : NULL,
      Buffer.from(`,"auditSeq":${auditFrom},"audit":[`),
    );
    pushList(chunks, this.audit.slice(auditFrom - this.auditBase));
    chunks.push(Buffer.from(']'));
    if (this.refusals.all().length) {
      chunks.push(Buffer.from(',"refusals":['));
      pushList(chunks, this.refusals.all());
      chunks.push(Buffer.from(']'));
    }
    chunks.push(Buffer.from('}\n'));
    return chunks;
  }

  // ---- reads: the caller clones ----

  getJob(id: string): Job | undefined {
    return this.jobs.get(id)?.job;
  }

  activeJob(host: string): Job | undefined {
    const slots = this.byHost.get(host);
    if (!slots) return undefined;
    return newestOf(slots.values(), (job) => ACTIVE.has(job.state))?.job;
  }

  listJobs(filter: JobFilter = {}): Job[] {
    if (filter.host !== undefined && filter.limit === 1) {
      // A host's newest (matching) job: asked for every host of a fleet on every rolling pass; a scan, no sort.
      const states = filter.states;
      const best = newestOf(this.byHost.get(filter.host)?.values() ?? [], (job) => !states || states.includes(job.state));
      return best ? [best.job] : [];
    }
    const source = filter.host !== undefined ? this.byHost.get(filter.host)?.values() ?? [] : this.jobs.values();
    const states = filter.states ? new Set(filter.states) : undefined;
    const slots = states ? [...source].filter((s) => states.has(s.job.state)) : [...source];
    const sorted = newestFirst(slots);
    return (filter.limit !== undefined ? sorted.slice(0, Math.max(0, filter.limit)) : sorted).map((s) => s.job);
  }

  getHost(name: string): HostRecord | undefined {
    return this.hosts.get(name);
  }

  listHosts(): HostRecord[] {
    return [...this.hosts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getRolling(): RollingRun | undefined {
    return this.rolling;
  }

  /** Security actions and refusals by time, oldest first, or one `kind`; `limit` keeps the newest entries that match. */
  listAudit(filter: AuditFilter = {}): AuditEntry[] {
    const actions =
      filter.kind === 'refusals'
        ? []
        : this.audit.filter((e) => (filter.host === undefined || e.host === filter.host) && (filter.since === undefined || e.at >= filter.since));
    const refusals = filter.kind === 'actions' ? [] : this.refusals.list(filter);
    const matched = refusals.length ? mergeByTime(actions, refusals) : actions;
    return filter.limit !== undefined ? matched.slice(Math.max(0, matched.length - Math.max(0, filter.limit))) : matched;
  }

  // ---- changes: each takes ownership of its argument (the caller passes a copy) and returns its undo ----

  putJobs(jobs: Job[]): Undo {
    const undos: Undo[] = [];
    for (const job of jobs) undos.push(this.putJob(job));
    return () => {
      for (const undo of undos.reverse()) undo();
    };
  }

  putJob(job: Job): Undo {
    const changes: Array<[string, Slot | undefined]> = [];
    const prev = this.jobs.get(job.id);
    changes.push([job.id, prev]);
    this.setSlot(job.id, { job, seq: prev?.seq ?? this.nextSeq++ });
    for (const removed of this.compactHost(job.host)) changes.push([removed.job.id, removed]);
    return () => {
      for (const [id, slot] of changes.reverse()) this.setSlot(id, slot);
    };
  }

  putHost(record: HostRecord): Undo {
    const prev = this.hosts.get(record.name);
    this.hosts.set(record.name, record);
    this.hostsBytes = undefined;
    return () => {
      if (prev) this.hosts.set(record.name, prev);
      else this.hosts.delete(record.name);
      this.hostsBytes = undefined;
    };
  }

  setRolling(run: RollingRun | undefined): Undo {
    const prev = this.rolling;
    this.rolling = run;
    return () => {
      this.rolling = prev;
    };
  }

  /** Appends a security action; the oldest beyond maxAudit, and those older than auditMaxAge, are dropped. */
  appendAudit(entry: AuditEntry): Undo {
    this.audit.push(entry);
    const excess = Math.max(this.audit.length - this.limits.maxAudit, this.tooOld(this.audit, 1));
    const dropped = excess > 0 ? this.audit.splice(0, excess) : [];
    this.auditBase += dropped.length;
    return () => {
      this.audit.pop();
      if (dropped.length) this.audit.unshift(...dropped);
      this.auditBase -= dropped.length;
    };
  }

  /** Refusals are not changes with an undo: one stays in memory until a write carries it (see DocumentStore). */
  noteRefusal(entry: AuditEntry): void {
    this.refusals.note(entry);
  }

  // ---- internals ----

  /**
   * How many entries at the front of the list are older than auditMaxAge (the list is in the order appended, so
   * by time); the last `keep` entries are never counted (an entry just appended stays, whatever its clock said).
   */
  private tooOld(entries: readonly AuditEntry[], keep: number): number {
    if (!Number.isFinite(this.limits.auditMaxAge)) return 0;
    const cutoff = new Date(this.now() - this.limits.auditMaxAge).toISOString();
    let n = 0;
    while (n < entries.length - keep && entries[n]!.at < cutoff) n++;
    return n;
  }

  /** Sets or (with undefined) removes a job, keeping the host index right, including a job that changed host. */
  private setSlot(id: string, slot: Slot | undefined): void {
    const current = this.jobs.get(id);
    if (current) this.byHost.get(current.job.host)?.delete(id);
    if (current && this.byHost.get(current.job.host)?.size === 0) this.byHost.delete(current.job.host);
    if (!slot) {
      this.jobs.delete(id);
      return;
    }
    this.jobs.set(id, slot);
    let hostSlots = this.byHost.get(slot.job.host);
    if (!hostSlots) this.byHost.set(slot.job.host, (hostSlots = new Map()));
    hostSlots.set(id, slot);
  }

  /** Drops the finished jobs of a host beyond the newest `keepFinishedPerHost`; returns what it dropped. */
  private compactHost(host: string): Slot[] {
    const slots = this.byHost.get(host);
    if (!slots) return [];
    const finished = newestFirst([...slots.values()].filter((s) => !ACTIVE.has(s.job.state)));
    const dropped = finished.slice(this.limits.keepFinishedPerHost);
    for (const slot of dropped) this.setSlot(slot.job.id, undefined);
    return dropped;
  }
}

const COMMA = Buffer.from(',');
const NULL = Buffer.from('null');

/** Serialized stored objects, by identity: an object replaced in the store drops out with it. */
const serialized = new WeakMap<object, Buffer>();

/** The compact JSON bytes of a stored object (serialized once per object; stored objects never change in place). */
export function jsonBytes(value: object): Buffer {
  let bytes = serialized.get(value);
  if (!bytes) serialized.set(value, (bytes = ownBytes(JSON.stringify(value))));
  return bytes;
}

/** The members of a JSON array of stored objects, comma-separated (their cached bytes). */
function pushList(chunks: Buffer[], entries: readonly object[]): void {
  entries.forEach((entry, i) => {
    if (i > 0) chunks.push(COMMA);
    chunks.push(jsonBytes(entry));
  });
}

/**
 * Drops an object's cached bytes: a job moved to the history file is not written again (unless the history is
 * rewritten, which serializes it anew), and a long-running bot keeps up to `keepFinishedPerHost` jobs per host in
 * memory — their bytes would double what they take.
 */
export function forgetBytes(value: object): void {
  serialized.delete(value);
}

/** `"name":{...}` of an object member whose value is a stored object, cached like jsonBytes (by the value). */
const members = new WeakMap<object, { name: string; bytes: Buffer }>();

function memberBytes(name: string, value: object): Buffer {
  const cached = members.get(value);
  if (cached?.name === name) return cached.bytes;
  const bytes = ownBytes(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  members.set(value, { name, bytes });
  return bytes;
}

function newestFirst(slots: Slot[]): Slot[] {
  return slots.sort((a, b) => (isNewer(a, b) ? -1 : isNewer(b, a) ? 1 : 0));
}

/** The newest of these slots whose job `accept`s, in one scan (newestFirst's first, without sorting). */
function newestOf(slots: Iterable<Slot>, accept: (job: Job) => boolean): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of slots) if (accept(slot.job) && (!best || isNewer(slot, best))) best = slot;
  return best;
}

/** Newer: created later, or at the same instant but stored later. */
function isNewer(a: Slot, b: Slot): boolean {
  return a.job.createdAt > b.job.createdAt || (a.job.createdAt === b.job.createdAt && a.seq > b.seq);
}

/**
 * A string's UTF-8 bytes in a buffer of their own. `Buffer.from` puts anything under 4 KiB in a shared 8 KiB pool
 * slab, and a slab lives as long as any piece of it does: the cached bytes of finished jobs and host records,
 * kept for the life of the object, would each pin a slab (~15 MB over a 1,000-host run).
 */
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}
