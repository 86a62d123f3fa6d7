/**
 * A lowdb adapter for one JSON file, written atomically and durably: the text goes to a temp file next to it,
 * which is fsynced, renamed over the file, and the directory is fsynced, so after `write` resolves a crash or
 * SIGKILL leaves either the old or the new file, whole. (lowdb's own TextFile writes through steno, which renames
 * but never fsyncs.) Reading refuses what is not JSON with a StoreError naming the file; it never writes.
 * The file system is passed in so tests can make writes fail.
 */
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import type pino from 'pino';
import { StoreError } from '../src/errors';

/** The few file operations used, as node:fs/promises has them. */
export type AtomicFs = Pick<typeof nodeFs, 'open' | 'rename' | 'readFile' | 'mkdir' | 'unlink' | 'copyFile'>;

/** A document already serialized to JSON, in pieces (written as they are, with one vectored write). */
export class JsonChunks {
  constructor(readonly chunks: readonly Buffer[]) {}
}

export class AtomicJsonFile implements Adapter<unknown> {
  readonly file: string;
  private readonly tempFile: string;
  private readonly fs: AtomicFs;
  private readonly log: pino.Logger | undefined;

  constructor(file: string, options: { fs?: AtomicFs; log?: pino.Logger } = {}) {
    this.file = path.resolve(file);
    this.tempFile = path.join(path.dirname(this.file), `.${path.basename(this.file)}.tmp`);
    this.fs = options.fs ?? nodeFs;
    this.log = options.log;
  }

  /** The parsed file, or null when it does not exist. */
  async read(): Promise<unknown> {
    let text: string;
    try {
      text = await this.fs.readFile(this.file, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw new StoreError(`${this.file}: cannot read the state file (${describe(err)}); fix its permissions or the "store" path`, { cause: err });
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      const what = text.trim() === '' ? 'it is empty' : `it is not valid JSON: ${(err as Error).message}`;
      throw new StoreError(`${this.file}: cannot parse the state file (${what}); it was left as it is: restore a backup or move it away`, { cause: err });
    }
  }

  async write(data: unknown): Promise<void> {
    // Serialize before the first await: the caller may change its objects as soon as we yield.
    const chunks = data instanceof JsonChunks ? data.chunks : [Buffer.from(`${JSON.stringify(data)}\n`)];
    const size = chunks.reduce((n, c) => n + c.length, 0);
    const dir = path.dirname(this.file);
    try {
      const fh = await this.fs.open(this.tempFile, 'w', 0o600);
      try {
        await writeAll(fh, chunks, size);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.fs.rename(this.tempFile, this.file);
    } catch (err) {
      await this.removeTemp();
      throw new StoreError(`${this.file}: cannot write the state file (${describe(err)}); free disk space or fix the directory's permissions`, { cause: err });
    }
    await this.syncDir(dir);
  }

  /** Creates the file's directory (and parents) when missing. */
  async ensureDir(): Promise<void> {
    const dir = path.dirname(this.file);
    try {
      await this.fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw new StoreError(`${this.file}: cannot create the directory ${dir} (${describe(err)}); fix the "store" path`, { cause: err });
    }
  }

  /** Copies the file aside (e.g. before a migration rewrites it). */
  async backup(suffix: string): Promise<string> {
    const to = `${this.file}.${suffix}`;
    try {
      await this.fs.copyFile(this.file, to);
    } catch (err) {
      throw new StoreError(`${this.file}: cannot copy it to ${to} before migrating (${describe(err)})`, { cause: err });
    }
    return to;
  }

  /** After a failed write. A temp file left behind is harmless (the next write replaces it), so this only logs. */
  private async removeTemp(): Promise<void> {
    try {
      await this.fs.unlink(this.tempFile);
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') {
        this.log?.warn({ file: this.tempFile, err: describe(err) }, 'cannot remove the temp file of a failed write');
      }
    }
  }

  /**
   * Makes the rename durable. It has already happened, so failing here would make the caller roll back a change
   * the file now holds: a failure is logged instead. File systems that cannot fsync a directory (EINVAL) are fine.
   */
  private async syncDir(dir: string): Promise<void> {
    try {
      const fh = await this.fs.open(dir, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (errno(err) === 'EINVAL') return;
      this.log?.warn({ dir, err: describe(err) }, 'cannot fsync the state directory; the last write may not survive a power loss');
    }
  }
}

/**
 * One vectored write of every piece. The kernel may stop short (libuv then reports the bytes written and drops
 * the error, e.g. a disk that filled up mid-write): the rest is written on, so the real error surfaces.
 */
export async function writeAll(fh: nodeFs.FileHandle, chunks: readonly Buffer[], size = chunks.reduce((n, c) => n + c.length, 0)): Promise<void> {
  let written = (await fh.writev(chunks as Buffer[])).bytesWritten;
  if (written === size) return;
  const rest = Buffer.concat(chunks as Buffer[]).subarray(written);
  for (let offset = 0; offset < rest.length; ) {
    const { bytesWritten } = await fh.write(rest, offset, rest.length - offset, written);
    if (bytesWritten === 0) throw Object.assign(new Error(`short write: ${written} of ${size} bytes`), { code: 'EIO' });
    offset += bytesWritten;
    written += bytesWritten;
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? err);
}
