/**
 * One OpenSSH known_hosts file, read and written so admins keep using their own tools on the same file: lookups
 * through a cached index (known-hosts-index.ts), key replacements batched and written atomically
 * (known-hosts-write.ts), comments, blank lines and lines rekick does not use kept as they are.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { KnownHostsIndex } from './known-hosts-index';
import type { HostLookup, KnownHostEntry } from './known-hosts-parse';
import { replaceHostKey, stampOf, writeKnownHostsAtomic } from './known-hosts-write';

interface QueuedReplace {
  target: HostLookup;
  key: Buffer;
  resolve(replaced: string[]): void;
  reject(err: unknown): void;
}

/**
 * One known_hosts file. Every read sees the file as it is now (admins edit it): the parsed index is reused only
 * while the file's inode, size and modification time are unchanged. Writes are serialized per path inside this
 * process and atomic (temp file then rename), keeping the file's mode.
 */
export class KnownHostsFile {
  private static readonly locks = new Map<string, Promise<unknown>>();
  private static readonly indexes = new Map<string, { stamp: string; index: KnownHostsIndex }>();
  /** Replacements waiting for the next write, per file (see replace). */
  private static readonly queued = new Map<string, QueuedReplace[]>();

  constructor(readonly file: string) {}

  async read(): Promise<string> {
    try {
      return await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async lookup(target: HostLookup): Promise<KnownHostEntry[]> {
    // A replace in flight is about to change the file: wait for it rather than index the version it replaces
    // (with many jobs at once, that re-read the whole file for most lookups).
    const writing = KnownHostsFile.locks.get(this.file);
    if (writing) await writing;
    const { stamp } = this.statNow();
    let cached = KnownHostsFile.indexes.get(this.file);
    if (!cached || cached.stamp !== stamp) {
      cached = { stamp, index: new KnownHostsIndex(await this.read()) };
      KnownHostsFile.indexes.set(this.file, cached);
    }
    return cached.index.lookup(target);
  }

  /**
   * What identifies one version of the file (inode, size and modification time), and its mode. A synchronous stat:
   * it runs for every connection and probe, and one stat of a local file costs a few microseconds where the promise
   * version costs a round trip through the thread pool.
   */
  private statNow(): { stamp: string; mode?: number } {
    try {
      const st = statSync(this.file, { bigint: true });
      return { stamp: stampOf(st), mode: Number(st.mode) & 0o7777 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { stamp: 'absent' };
    }
  }

  /**
   * Records `key` as the host's key: every plain pattern and hashed line naming the host (under its name or
   * address) is removed, other hosts of shared lines are kept, markers are left alone, and
   * `name,address type base64` is appended. Returns the fingerprints of the keys it replaced.
   *
   * Replacements asked for while an earlier one is being written go out together in the next write (a rolling run
   * accepts a new key per reinstalled host, many at once): each resolves once the file holding it is written.
   */
  replace(target: HostLookup, key: Buffer): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const queued = KnownHostsFile.queued.get(this.file);
      if (queued) {
        queued.push({ target, key, resolve, reject });
        return;
      }
      KnownHostsFile.queued.set(this.file, [{ target, key, resolve, reject }]);
      void this.locked(async () => {
        const batch = KnownHostsFile.queued.get(this.file) ?? [];
        KnownHostsFile.queued.delete(this.file);
        try {
          const results = await this.replaceAll(batch);
          batch.forEach((r, i) => r.resolve(results[i]!));
        } catch (err) {
          for (const r of batch) r.reject(err);
        }
      });
    });
  }

  private async replaceAll(batch: QueuedReplace[]): Promise<string[][]> {
    // The cached index when the file is the version it was made from; else the file as it is now.
    const { stamp, mode } = this.statNow();
    const cached = KnownHostsFile.indexes.get(this.file);
    const index = cached && cached.stamp === stamp ? cached.index : new KnownHostsIndex(await this.read());
    KnownHostsFile.indexes.delete(this.file); // edited below: valid again only once written
    const results = batch.map(({ target, key }) => replaceHostKey(index, target, key));
    const written = await this.writeAtomic(index.bytes(), mode ?? 0o644);
    // The next lookup need not read back what was just written (unless someone changes the file meanwhile).
    KnownHostsFile.indexes.set(this.file, { stamp: written, index });
    return results;
  }

  /** The file written atomically (see writeKnownHostsAtomic); its new stamp. */
  private writeAtomic(content: Buffer[], mode: number): Promise<string> {
    return writeKnownHostsAtomic(this.file, content, mode);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = KnownHostsFile.locks.get(this.file) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    KnownHostsFile.locks.set(this.file, settled);
    void settled.then(() => {
      if (KnownHostsFile.locks.get(this.file) === settled) KnownHostsFile.locks.delete(this.file);
    });
    return run;
  }
}
