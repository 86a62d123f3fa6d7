/**
 * One rekick per state file: a lock file beside it (`FILE.lock`, holding the owner's pid), taken with O_EXCL.
 * A lock left by a process that no longer runs (killed) is taken over; one held by a live process is refused.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { StoreError } from '../src/errors';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ProcessLock {
  private held = false;
  constructor(readonly path: string) {}

  acquire(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StoreError(`cannot create the lock file ${this.path}: ${(err as Error).message}`, { cause: err });
        }
        let pid = NaN;
        try {
          pid = Number.parseInt(readFileSync(this.path, 'utf8'), 10);
        } catch {
          continue; // removed meanwhile: try again
        }
        if (Number.isInteger(pid) && alive(pid)) {
          throw new StoreError(`another rekick (pid ${pid}) is using this state file (${this.path}); stop it first, or point this one at another store`);
        }
        rmSync(this.path, { force: true }); // stale: its owner is gone
      }
    }
    throw new StoreError(`could not take the lock ${this.path}`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }
}
