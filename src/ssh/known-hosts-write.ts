/** Changes to a known_hosts file: a host's key replaced in the index, and the file written atomically. */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { KnownHostsIndex } from './known-hosts-index';
import { fingerprint, hostField, keyTypeOf, lookupNames, type HostLookup } from './known-hosts-parse';

/**
 * Records `key` as the host's key in the index: every plain pattern and hashed line naming the host (under its name
 * or address) is removed, other hosts of shared lines are kept, markers are left alone, and
 * `name,address type base64` is appended. Returns the fingerprints of the keys it replaced.
 */
export function replaceHostKey(index: KnownHostsIndex, target: HostLookup, key: Buffer): string[] {
  const names = lookupNames(target);
  const replaced: string[] = [];
  const changes = new Map<number, string | undefined>();
  for (const e of index.lookup(target)) {
    if (e.marker) continue;
    // A hashed line names one host: drop it. A plain line loses the patterns naming this host literally;
    // other hosts (and wildcards) sharing it are kept.
    const kept = e.hosts.startsWith('|') ? [] : e.hosts.split(',').filter((p) => !names.includes(p.toLowerCase()));
    if (kept.length === e.hosts.split(',').length) continue; // only a wildcard names it: leave it alone
    replaced.push(fingerprint(e.key));
    const original = index.lineText(e.line);
    changes.set(e.line, kept.some((p) => !p.startsWith('!')) ? original.replace(e.hosts, kept.join(',')) : undefined);
  }
  index.edit(changes, [`${hostField(target)} ${keyTypeOf(key)} ${key.toString('base64')}`]);
  return [...new Set(replaced)];
}

/**
 * Writes the file as a temp file beside it (with `mode`, whatever the umask), fsynced, then renamed over it; the
 * directory is made only when missing. Returns the written file's stamp (taken from the temp file: a rename keeps
 * inode, size and mtime). A failed write removes its temp file and leaves the file as it was.
 */
export async function writeKnownHostsAtomic(file: string, content: Buffer[], mode: number): Promise<string> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    fh = await open(tmp, 'wx', mode);
  }
  let st;
  try {
    // One buffer, one write: a fleet's file is a thousand lines or more, and a writev of that many pieces costs
    // more to hand to the kernel than the copy.
    await fh.writeFile(Buffer.concat(content));
    await fh.chmod(mode);
    await fh.sync();
    st = await fh.stat({ bigint: true });
  } catch (err) {
    await rm(tmp, { force: true }); // first: removed even if the close below fails too
    await fh.close();
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return stampOf(st);
}

/** What identifies one version of a file: inode, size and modification time. */
export function stampOf(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}
