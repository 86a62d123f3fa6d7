/**
 * The jobs in memory, indexed by id and by host, with the finished jobs of each host compacted to the newest
 * `keepFinishedPerHost`. Every change returns an `Undo` that puts back exactly what it replaced (compaction
 * included). Reads return the stored objects: the caller clones.
 */
import { ACTIVE_JOB_STATES, type Job } from '../src/model';
import type { JobFilter } from './store';
import type { Undo } from './undo';

const ACTIVE = new Set(ACTIVE_JOB_STATES);

interface Slot {
  job: Job;
  /** Insertion order: breaks ties between jobs created at the same instant (later saved = newer). */
  seq: number;
}

export class JobIndex {
  private readonly jobs = new Map<string, Slot>();
  private readonly byHost = new Map<string, Map<string, Slot>>();
  private nextSeq = 0;

  constructor(private readonly keepFinishedPerHost: number) {}

  /** Replaces every job (a loaded document, oldest first), compacting each host. */
  load(jobs: readonly Job[]): void {
    this.jobs.clear();
    this.byHost.clear();
    this.nextSeq = 0;
    for (const job of jobs) this.setSlot(job.id, { job, seq: this.nextSeq++ });
    for (const host of this.byHost.keys()) this.compactHost(host);
  }

  /** Every job, in the order first saved. */
  all(): Job[] {
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

  get(id: string): Job | undefined {
    return this.jobs.get(id)?.job;
  }

  active(host: string): Job | undefined {
    const slots = this.byHost.get(host);
    if (!slots) return undefined;
    return newestOf(slots.values(), (job) => ACTIVE.has(job.state))?.job;
  }

  list(filter: JobFilter = {}): Job[] {
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

  putAll(jobs: Job[]): Undo {
    const undos: Undo[] = [];
    for (const job of jobs) undos.push(this.put(job));
    return () => {
      for (const undo of undos.reverse()) undo();
    };
  }

  put(job: Job): Undo {
    const changes: Array<[string, Slot | undefined]> = [];
    const prev = this.jobs.get(job.id);
    changes.push([job.id, prev]);
    this.setSlot(job.id, { job, seq: prev?.seq ?? this.nextSeq++ });
    for (const removed of this.compactHost(job.host)) changes.push([removed.job.id, removed]);
    return () => {
      for (const [id, slot] of changes.reverse()) this.setSlot(id, slot);
    };
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
    const dropped = finished.slice(this.keepFinishedPerHost);
    for (const slot of dropped) this.setSlot(slot.job.id, undefined);
    return dropped;
  }
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
