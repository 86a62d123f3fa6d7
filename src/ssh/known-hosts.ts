/**
 * OpenSSH known_hosts, read and written so admins keep using their own tools on the same file: plain and hashed
 * (`|1|salt|hash`) host fields, `[host]:port` for ports other than 22, wildcards and `!negations`, `@revoked` and
 * `@cert-authority` markers, comments and blank lines kept as they are.
 */
import { createHash, createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface KnownHostEntry {
  /** Index of the line in the file. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  /** The host field as written (comma-separated patterns, or one `|1|salt|hash`). */
  hosts: string;
  keyType: string;
  key: Buffer;
  comment?: string;
}

export interface HostLookup {
  name: string;
  address: string;
  port: number;
}

/** `SHA256:` + unpadded base64 of sha256(raw key blob): what `ssh-keygen -lf` prints. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first string), e.g. `ssh-ed25519`. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) throw new Error('not an SSH public key blob');
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) throw new Error('not an SSH public key blob');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The names a host is looked up under, as OpenSSH does: name and address, `[x]:port` when port is not 22. */
export function lookupNames(target: HostLookup): string[] {
  const wrap = (h: string) => (target.port === 22 ? h : `[${h}]:${target.port}`);
  return [...new Set([wrap(target.name.toLowerCase()), wrap(target.address.toLowerCase())])];
}

/** The host field rekick writes for a new key: `name,address` (or `[name]:port,[address]:port`). */
export function hostField(target: HostLookup): string {
  return lookupNames(target).join(',');
}

const compiledPatterns = new Map<string, RegExp>();

/** A host pattern as a RegExp, compiled once per pattern (a fleet's file repeats few wildcards). */
function wildcardToRegExp(pattern: string): RegExp {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    if (compiledPatterns.size >= 10_000) compiledPatterns.clear();
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    compiledPatterns.set(pattern, (re = new RegExp(`^${source}$`, 'i')));
  }
  return re;
}

function patternMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  return wildcardToRegExp(pattern).test(name);
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether a host field matches one lookup name (hashed, or patterns with negation). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (patternMatches(pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Parses the file; lines that are not entries (comments, blanks, garbage) are skipped but kept by `KnownHostsFile`. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, line) => {
    const entry = parseKnownHostsLine(rawLine, line);
    if (entry) entries.push(entry);
  });
  return entries;
}

/** One line as an entry, or undefined for a comment, a blank or a line OpenSSH would not use either. */
function parseKnownHostsLine(rawLine: string, line: number): KnownHostEntry | undefined {
  const t = rawLine.trim();
  if (!t || t.startsWith('#')) return undefined;
  const fields = t.split(/\s+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
  else if (fields[0]!.startsWith('@')) return undefined;
  if (fields.length < 3) return undefined;
  const [hosts, keyType, b64, ...rest] = fields as [string, string, string, ...string[]];
  const key = Buffer.from(b64, 'base64');
  try {
    if (keyTypeOf(key) !== keyType) return undefined;
  } catch {
    return undefined; // not a key line OpenSSH would use either
  }
  return { line, marker, hosts, keyType, key, comment: rest.length ? rest.join(' ') : undefined };
}

/** The entries that apply to a host (under any of its lookup names). */
export function entriesFor(entries: KnownHostEntry[], target: HostLookup): KnownHostEntry[] {
  const names = lookupNames(target);
  return entries.filter((e) => names.some((n) => hostFieldMatches(e.hosts, n)));
}

/**
 * The lines of one file, indexed by their host field: plain host patterns (no wildcard, negation or hash) by name,
 * so a lookup in a large fleet's file costs a map access; hashed and wildcard lines are matched one by one, as
 * OpenSSH does. Building it only splits lines; a line is parsed (its key decoded and checked) when a lookup needs it.
 */
export class KnownHostsIndex {
  /** The file's lines (without the empty string after a final newline), each with its current line number. */
  private lines: LineRef[];
  private readonly plain = new Map<string, LineRef[]>();
  private readonly other = new Set<LineRef>();

  constructor(text: string) {
    const raw = text.split('\n');
    if (raw[raw.length - 1] === '') raw.pop();
    this.lines = raw.map((line, pos) => ({ text: line, pos }));
    for (const ref of this.lines) this.add(ref);
  }

  /** The entries that apply to a host (under any of its lookup names), in file order, markers included. */
  lookup(target: HostLookup): KnownHostEntry[] {
    const names = lookupNames(target);
    const found = new Set<LineRef>();
    for (const n of names) for (const ref of this.plain.get(n) ?? []) found.add(ref);
    for (const ref of this.other) if (names.some((n) => hostFieldMatches(ref.hosts!, n))) found.add(ref);
    return [...found]
      .sort((a, b) => a.pos - b.pos)
      .map((ref) => parseKnownHostsLine(ref.text, ref.pos))
      .filter((e): e is KnownHostEntry => e !== undefined);
  }

  /**
   * Changes the indexed text in place, as `replace` edits the file: lines rewritten (a string) or dropped
   * (undefined), by line number, and lines appended. Costs the lines touched, not the file.
   */
  edit(changes: Map<number, string | undefined>, appended: string[]): void {
    for (const [pos, text] of changes) {
      const ref = this.lines[pos];
      if (!ref) continue;
      this.remove(ref);
      ref.bytes = undefined;
      if (text === undefined) ref.dropped = true;
      else {
        ref.text = text;
        this.add(ref);
      }
    }
    if (changes.size) this.lines = this.lines.filter((ref) => !ref.dropped);
    for (const text of appended) {
      const ref: LineRef = { text, pos: this.lines.length };
      this.lines.push(ref);
      this.add(ref);
    }
    if (changes.size) this.lines.forEach((ref, pos) => (ref.pos = pos));
  }

  /** One line's text, by line number. */
  lineText(pos: number): string {
    return this.lines[pos]?.text ?? '';
  }

  /**
   * The indexed file's bytes, a piece per line (newline included). A line's bytes are made once and kept until it
   * changes: rewriting the file after a few replaced keys encodes those lines, not the whole file again (a copy of
   * the bytes, not a join of the text and its encoding).
   */
  bytes(): Buffer[] {
    const out: Buffer[] = [];
    for (const ref of this.lines) out.push((ref.bytes ??= Buffer.from(`${ref.text}\n`, 'utf8')));
    return out;
  }

  private add(ref: LineRef): void {
    const hosts = hostFieldOf(ref.text);
    ref.hosts = hosts;
    if (hosts === undefined) return;
    if (hosts.startsWith('|') || /[*?!]/.test(hosts)) {
      this.other.add(ref);
      return;
    }
    for (const p of plainNames(hosts)) {
      const list = this.plain.get(p);
      if (list) list.push(ref);
      else this.plain.set(p, [ref]);
    }
  }

  private remove(ref: LineRef): void {
    if (ref.hosts === undefined) return;
    if (this.other.delete(ref)) return;
    for (const p of plainNames(ref.hosts)) {
      const list = this.plain.get(p)?.filter((r) => r !== ref);
      if (list?.length) this.plain.set(p, list);
      else this.plain.delete(p);
    }
  }
}

interface QueuedReplace {
  target: HostLookup;
  key: Buffer;
  resolve(replaced: string[]): void;
  reject(err: unknown): void;
}

interface LineRef {
  text: string;
  /** Its line number in the file as the index now holds it. */
  pos: number;
  /** Its host field, when it has one (set when indexed). */
  hosts?: string;
  dropped?: boolean;
  /** Its bytes with the newline, once written (see bytes()). */
  bytes?: Buffer;
}

function plainNames(hosts: string): Iterable<string> {
  const lower = hosts.toLowerCase();
  return lower.includes(',') ? new Set(lower.split(',')) : [lower];
}

/**
 * The host field of what may be an entry line (after an optional marker), without parsing the rest: a scan, not a
 * RegExp, as this runs for every line of a fleet's file. Comments, blanks and lines with fewer than three fields
 * give undefined; whatever else is wrong with a line shows when a lookup parses it.
 */
function hostFieldOf(raw: string): string | undefined {
  const fields: Array<[number, number]> = [];
  let i = 0;
  const n = raw.length;
  while (fields.length < 4 && i < n) {
    while (i < n && isSpace(raw.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(raw.charCodeAt(i))) i++;
    fields.push([start, i]);
  }
  if (fields.length === 0 || raw.charCodeAt(fields[0]![0]) === 35 /* # */) return undefined;
  const marked = raw.charCodeAt(fields[0]![0]) === 64; /* @ */
  const host = fields[marked ? 1 : 0];
  if (!host || fields.length < (marked ? 4 : 3)) return undefined;
  const value = raw.slice(host[0], host[1]);
  return value.startsWith('@') || value.startsWith('#') ? undefined : value;
}

function stampOf(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
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
    const results = batch.map(({ target, key }) => {
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
    });
    const written = await this.writeAtomic(index.bytes(), mode ?? 0o644);
    // The next lookup need not read back what was just written (unless someone changes the file meanwhile).
    KnownHostsFile.indexes.set(this.file, { stamp: written, index });
    return results;
  }

  /**
   * Writes the file as a temp file beside it (with `mode`, whatever the umask), fsynced, then renamed over it; the
   * directory is made only when missing. Returns the written file's stamp (taken from the temp file: a rename keeps
   * inode, size and mtime). A failed write removes its temp file and leaves the file as it was.
   */
  private async writeAtomic(content: Buffer[], mode: number): Promise<string> {
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${Date.now()}.tmp`);
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
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return stampOf(st);
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
