/**
 * One rekick per state file: a lock file beside it (`FILE.lock`) naming its owner (lock-owner.ts), taken
 * atomically with link(), taken over when its owner is gone, refused when a live process holds it.
 */
import { createHash } from 'node:crypto';
import { LockError, LockFiles, type LockFs } from './lock-files';
import { describeOwner, formatOwner, judgeOwner, parseOwner, procProbe, type LockOwner, type ProcessProbe } from './lock-owner';

export interface ProcessLockOptions {
  fs?: LockFs;
  probe?: ProcessProbe;
  /** Waits between tries while another process is taking over a stale lock. Default: blocks the thread. */
  sleep?: (ms: number) => void;
}

/** Lock files held by this process (for when start times are unknown). */
const heldHere = new Set<string>();

const TRIES = 100;
const MAX_TAKEOVER_DEPTH = 8;

function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The lock, taken atomically: the owner's record is written whole to a temp file beside the lock and fsynced, then
 * hard-linked to the lock's name (link fails with EEXIST when the lock exists), so the lock never exists without
 * its full content and of two processes exactly one gets it.
 *
 * A lock whose owner is gone (killed, machine rebooted, pid now someone else's) is taken over; one held by a live
 * process is refused, naming it (E_STORE_LOCKED). Takeovers of one stale record are serialised by a marker that is
 * also taken with link(): `FILE.lock.takeover-H`, H a hash of the stale record's text. Only the process that links
 * the marker may replace the lock, and only after reading that the lock still holds the stale record; it then
 * renames its record over it. A marker left by a process that died taking over is itself stale: the next one links
 * `FILE.lock.takeover-H2`, H2 a hash of H and that marker's text, and so on — each level has one winner.
 *
 * A lock file whose text rekick never writes (empty, or not a pid) is refused with E_STORE_LOCK and not guessed at
 * by its age: rekick's own lock files always hold a whole record (written before the link), so such a file was
 * written by something else, and only an operator can tell whether a rekick is using the state file.
 */
export class ProcessLock {
  private held?: { text: string };
  private readonly files: LockFiles;
  private readonly probe: ProcessProbe;
  private readonly sleep: (ms: number) => void;

  constructor(
    readonly path: string,
    options: ProcessLockOptions = {},
  ) {
    this.files = new LockFiles(path, options.fs);
    this.probe = options.probe ?? procProbe;
    this.sleep = options.sleep ?? blockFor;
  }

  acquire(): void {
    if (this.held) throw new LockError('E_STORE_LOCK', `the lock ${this.path} is already held by this store (acquired twice)`);
    const self = this.probe.self();
    const text = formatOwner(self);
    const tmp = this.files.writeTemp(text);
    try {
      for (let attempt = 0; attempt < TRIES; attempt++) {
        if (attempt > 0) this.sleep(Math.min(2 + attempt, 20));
        if (this.files.tryLink(tmp, this.path)) return this.took(text);
        const current = this.files.read(this.path);
        if (current === undefined) continue; // released meanwhile: try again
        if (this.judge(current, self).state === 'stale' && this.takeOver(current, tmp, self)) return this.took(text);
      }
    } finally {
      this.files.unlinkQuietly(tmp); // gone already when a takeover renamed it over the lock
    }
    throw new LockError(
      'E_STORE_LOCK',
      `could not take the lock ${this.path}: other processes kept taking it over (${TRIES} tries); stop them, then try again`,
    );
  }

  release(): void {
    if (!this.held) return;
    const { text } = this.held;
    this.held = undefined;
    heldHere.delete(this.path);
    // Only our own record is removed (were it ever replaced, the file is someone else's now).
    if (this.files.read(this.path) === text) this.files.unlinkQuietly(this.path);
  }

  private took(text: string): void {
    this.held = { text };
    heldHere.add(this.path);
  }

  /** The verdict on a lock file's text; throws when a live process holds it or the text is not a lock record. */
  private judge(text: string, self: LockOwner, file = this.path): { state: 'stale'; why: string } {
    const owner = parseOwner(text);
    if (!owner) {
      throw new LockError(
        'E_STORE_LOCK',
        `the lock file ${file} does not hold a rekick lock record (${text.length ? 'unknown content' : 'empty'}); rekick never writes one like it. ` +
          `If no rekick uses ${this.path.replace(/\.lock$/, '')} (check with ps), remove the file (rm ${file}) and start again`,
      );
    }
    const verdict = judgeOwner(owner, self, this.probe, heldHere.has(this.path));
    if (verdict.state === 'self') {
      throw new LockError('E_STORE_LOCKED', `this process (${describeOwner(owner)}) already holds ${this.path}: the state file is opened twice in one process`);
    }
    if (verdict.state === 'held') {
      throw new LockError('E_STORE_LOCKED', `another rekick (${describeOwner(owner)}) holds ${file}; stop it first`);
    }
    return verdict;
  }

  /**
   * Replaces the lock holding `stale` with our record (the temp file `tmp`), unless another process is doing it or
   * did it: then false, and the caller looks again.
   */
  private takeOver(stale: string, tmp: string, self: LockOwner): boolean {
    let key = hash(stale);
    const deadMarkers: string[] = [];
    for (let depth = 0; depth < MAX_TAKEOVER_DEPTH; depth++) {
      const marker = `${this.path}.takeover-${key}`;
      if (!this.files.tryLink(tmp, marker)) {
        const other = this.files.read(marker);
        if (other === undefined) return false; // its taker finished meanwhile: look again
        let verdict;
        try {
          verdict = this.judge(other, self, marker);
        } catch (err) {
          if (err instanceof LockError && err.code === 'E_STORE_LOCKED') return false; // a live process is taking over
          throw err;
        }
        if (verdict.state === 'stale') {
          deadMarkers.push(marker); // its taker died midway: the next level decides
          key = hash(`${key}\n${other}`);
          continue;
        }
      }
      // We alone may replace a lock that holds `stale`; it must still hold it.
      try {
        if (this.files.read(this.path) !== stale) return false;
        this.files.fs.renameSync(tmp, this.path);
      } finally {
        this.files.unlinkQuietly(marker);
      }
      for (const m of deadMarkers) this.files.unlinkQuietly(m);
      return true;
    }
    throw new LockError(
      'E_STORE_LOCK',
      `could not take over the stale lock ${this.path}: ${MAX_TAKEOVER_DEPTH} takeovers of it were abandoned midway; if no rekick runs, remove ${this.path} and ${this.path}.takeover-*`,
    );
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
