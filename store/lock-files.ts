/** The file operations of the process lock, each failure told as a LockError naming the file. */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { CodedError } from '../src/errors';

/** The file operations the lock uses (tests pass ones that interleave two acquirers). */
export type LockFs = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'linkSync' | 'renameSync' | 'unlinkSync' | 'readFileSync'
>;

/** A lock this process cannot take: held by a live rekick (E_STORE_LOCKED), or not usable (E_STORE_LOCK). */
export class LockError extends CodedError {}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

export class LockFiles {
  constructor(
    private readonly lockPath: string,
    readonly fs: LockFs = nodeFs,
  ) {}

  /** Our record, written whole and fsynced to a temp file beside the lock; its path. */
  writeTemp(text: string): string {
    const tmp = `${this.lockPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(tmp, 'wx', 0o600);
      this.fs.writeSync(fd, text);
      this.fs.fsyncSync(fd);
    } catch (err) {
      this.unlinkQuietly(tmp);
      throw new LockError('E_STORE_LOCK', `cannot create the lock file ${this.lockPath}: ${(err as Error).message}`, { cause: err });
    } finally {
      if (fd !== undefined) this.fs.closeSync(fd);
    }
    return tmp;
  }

  /** link(from, to): true when made, false when `to` exists. */
  tryLink(from: string, to: string): boolean {
    try {
      this.fs.linkSync(from, to);
      return true;
    } catch (err) {
      if (errno(err) === 'EEXIST') return false;
      throw new LockError('E_STORE_LOCK', `cannot create the lock file ${to}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The file's text, or undefined when it does not exist. */
  read(file: string): string | undefined {
    try {
      return this.fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw new LockError('E_STORE_LOCK', `cannot read the lock file ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  unlinkQuietly(file: string): void {
    try {
      this.fs.unlinkSync(file);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw new LockError('E_STORE_LOCK', `cannot remove ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
}
