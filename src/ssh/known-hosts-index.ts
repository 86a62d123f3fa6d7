/** A known_hosts file's lines indexed by host field, for lookups in a large fleet's file at the cost of a map access. */
import { hostFieldMatches } from './known-hosts-match';
import { lookupNames, parseKnownHostsLine, type HostLookup, type KnownHostEntry } from './known-hosts-parse';

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
export function hostFieldOf(raw: string): string | undefined {
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

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}
