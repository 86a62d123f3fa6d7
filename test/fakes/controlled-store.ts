/**
 * A Store whose writes become durable only when the test says so, for tests of interleavings. Like the real stores,
 * a change is in memory at once (reads see it) and its promise resolves once it is durable. Unlike them, the test
 * decides when: every write waits at a gate (`gate`, e.g. fast-check's scheduler, or `pause()` + `releaseNext()`).
 * Writes that touch the same host (its jobs and record), the audit trail or the rolling run stay in order; writes
 * that touch nothing in common may be released in any order, which the Store contract allows.
 *
 * A `Disk` holds what is durable. `crash()` models a SIGKILL: writes not yet durable are lost, their promises never
 * settle, and nothing this store is asked afterwards reaches the disk; a new ControlledStore on the same Disk is
 * the state a restarted process reads.
 */
import { cloneJson } from '../../store/clone-json';
import type { AuditFilter, Frozen, JobFilter, Store } from '../../store/store';
import { documentProblems, type StoreDocument } from '../../store/state-document';
import { StoreState } from '../../store/store-state';
import type { Undo } from '../../store/undo';
import type { AuditEntry, HostRecord, Job, RollingRun } from '../../src/model';

/** What survives a crash. */
export class Disk {
  readonly state = new StoreState();
  /** Durable writes so far (each one change). */
  writes = 0;

  /** The durable state as the document a restarted process reads (checked as the real stores check it). */
  document(): StoreDocument {
    return JSON.parse(JSON.stringify(this.state.toDocument())) as StoreDocument;
  }

  /** Problems of the durable document (empty when a store can load it). */
  problems(): string[] {
    return documentProblems(this.document());
  }
}

export type WriteGate = (label: string) => Promise<void>;

interface Held {
  label: string;
  open: () => void;
}

export class ControlledStore implements Store {
  private live = new StoreState();
  private crashed = false;
  private paused = false;
  private held: Held[] = [];
  /** The last write of each key: a later write on that key waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private inFlight = 0;

  constructor(
    readonly disk: Disk = new Disk(),
    private readonly gate?: WriteGate,
  ) {}

  get writable(): boolean {
    return true;
  }

  async open(): Promise<void> {
    this.live = new StoreState();
    this.live.load(this.disk.document());
  }

  async close(): Promise<void> {}

  /** From now on writes wait until released (releaseNext / releaseAll / resume). */
  pause(): void {
    this.paused = true;
  }

  /** Releases every held write and stops holding new ones. */
  resume(): void {
    this.paused = false;
    this.releaseAll();
  }

  /** Labels of the writes held at the gate, oldest first. */
  heldWrites(): string[] {
    return this.held.map((h) => h.label);
  }

  /** Releases the oldest held write whose label matches (any when no pattern); false when none. */
  releaseNext(pattern?: RegExp): boolean {
    const i = this.held.findIndex((h) => !pattern || pattern.test(h.label));
    if (i < 0) return false;
    const [h] = this.held.splice(i, 1);
    h!.open();
    return true;
  }

  releaseAll(): void {
    for (const h of this.held.splice(0)) h.open();
  }

  /** Writes not yet durable (held, or waiting behind a held one). */
  pending(): number {
    return this.inFlight;
  }

  /** The process dies: writes not durable are lost and never settle; nothing later reaches the disk. */
  crash(): void {
    this.crashed = true;
    this.held = [];
  }

  // ---- reads: from memory, copies ----

  getJob(id: string): Job | undefined {
    const job = this.live.getJob(id);
    return job && cloneJson(job);
  }

  activeJob(host: string): Job | undefined {
    const job = this.live.activeJob(host);
    return job && cloneJson(job);
  }

  listJobs(filter?: JobFilter): Job[] {
    return this.live.listJobs(filter).map((j) => cloneJson(j));
  }

  peekJob(id: string): Frozen<Job> | undefined {
    return this.live.getJob(id);
  }

  peekJobs(filter?: JobFilter): readonly Frozen<Job>[] {
    return this.live.listJobs(filter);
  }

  getHost(name: string): HostRecord | undefined {
    const h = this.live.getHost(name);
    return h && cloneJson(h);
  }

  peekHost(name: string): Frozen<HostRecord> | undefined {
    return this.live.getHost(name);
  }

  listHosts(): HostRecord[] {
    return this.live.listHosts().map((h) => cloneJson(h));
  }

  getRolling(): RollingRun | undefined {
    const run = this.live.getRolling();
    return run && structuredClone(run);
  }

  listAudit(filter?: AuditFilter): AuditEntry[] {
    return this.live.listAudit(filter).map((e) => cloneJson(e));
  }

  // ---- writes: in memory now, durable when released ----

  saveJob(job: Job): Promise<void> {
    return this.saveJobs([job]);
  }

  saveJobs(jobs: Job[]): Promise<void> {
    const mine = cloneJson(jobs);
    const keys = mine.length ? [...new Set(mine.map((j) => `host:${j.host}`))] : ['probe'];
    const label = mine.length ? `save ${mine.map((j) => `${j.host} ${j.id} ${j.state}`).join(', ')}` : 'save (empty)';
    return this.write(keys, label, (s) => s.putJobs(cloneJson(mine)));
  }

  saveHost(record: HostRecord): Promise<void> {
    const mine = cloneJson(record);
    return this.write([`host:${mine.name}`], `host record ${mine.name}`, (s) => s.putHost(cloneJson(mine)));
  }

  saveRolling(run: RollingRun | undefined): Promise<void> {
    const mine = run && structuredClone(run);
    return this.write(['rolling'], 'rolling run', (s) => s.setRolling(mine && structuredClone(mine)));
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    // As the real stores: a refusal goes to the refusal list, which is not worth a write of its own (the next write
    // carries it to the disk).
    if (entry.outcome !== 'ok') {
      this.noteRefusal(entry);
      return Promise.resolve();
    }
    const mine = cloneJson(entry);
    return this.write(['audit'], `audit ${mine.action} ${mine.host ?? ''}`.trim(), (s) => s.appendAudit(cloneJson(mine)));
  }

  noteRefusal(entry: AuditEntry): void {
    if (!this.crashed) this.live.noteRefusal(cloneJson(entry));
  }

  private write(keys: string[], label: string, change: (state: StoreState) => Undo): Promise<void> {
    if (this.crashed) return new Promise(() => undefined);
    change(this.live);
    const before = keys.map((k) => this.tails.get(k) ?? Promise.resolve());
    this.inFlight++;
    const durable = Promise.all(before)
      .then(() => this.pass(label))
      .then(() => {
        if (this.crashed) return new Promise<void>(() => undefined);
        change(this.disk.state);
        // As in the real stores, a write carries the refusal list as it is (refusals cost no write of their own).
        this.disk.state.refusals.load(this.live.refusals.all());
        this.disk.writes++;
        this.inFlight--;
      });
    for (const k of keys) this.tails.set(k, durable);
    return durable;
  }

  /** The gate a write waits at before it is durable. */
  private pass(label: string): Promise<void> {
    if (this.crashed) return new Promise(() => undefined);
    if (this.gate) return this.gate(label);
    if (!this.paused) return Promise.resolve();
    return new Promise((open) => this.held.push({ label, open }));
  }
}
