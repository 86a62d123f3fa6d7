/**
 * OpenSSH known_hosts lines and keys: entries parsed from text, the names a host is looked up under, the host
 * field rekick writes, and key fingerprints and types.
 */
import { createHash } from 'node:crypto';
import { hostFieldMatches } from './known-hosts-match';

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
export function parseKnownHostsLine(rawLine: string, line: number): KnownHostEntry | undefined {
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

