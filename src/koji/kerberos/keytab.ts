/** Reading an MIT keytab's principals, to check koji.keytab and explain failures before any KDC is asked. */
import { readFileSync } from 'node:fs';
import { KojiLoginError } from '../errors';

/**
 * The principals in an MIT keytab file (format 0x0502, also 0x0501), for error messages and checks before any
 * KDC is asked. Throws KojiLoginError when the file cannot be read or is not a keytab.
 */
export function readKeytabPrincipals(file: string): string[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new KojiLoginError(`cannot read koji.keytab ${file}: ${(err as Error).message}; give rekick a keytab for its principal (readable by the user rekick runs as)`, { cause: err });
  }
  const bad = (why: string) => new KojiLoginError(`koji.keytab ${file} is not a Kerberos keytab (${why}): export one with kadmin's ktadd -k or ipa-getkeytab`);
  if (buf.length < 2 || buf[0] !== 5 || (buf[1] !== 1 && buf[1] !== 2)) throw bad('wrong header');
  const v1 = buf[1] === 1;
  const principals: string[] = [];
  let off = 2;
  while (off + 4 <= buf.length) {
    const size = buf.readInt32BE(off);
    off += 4;
    if (size === 0) break;
    if (size < 0) {
      off += -size; // a deleted entry (hole)
      continue;
    }
    const end = off + size;
    if (end > buf.length) throw bad('truncated entry');
    let p = off;
    const u16 = () => {
      const v = buf.readUInt16BE(p);
      p += 2;
      return v;
    };
    const str = () => {
      const n = u16();
      const s = buf.toString('utf8', p, p + n);
      p += n;
      return s;
    };
    let count = u16();
    if (v1) count -= 1;
    const realm = str();
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(str());
    const principal = `${parts.join('/')}@${realm}`;
    if (!principals.includes(principal)) principals.push(principal);
    off = end;
  }
  return principals;
}

/** What the keytab holds, for an error message (' (it holds a, b)'), or '' when it cannot be read. */
export function keytabHolds(file: string): string {
  try {
    const ps = readKeytabPrincipals(file);
    return ps.length ? ` (it holds ${ps.join(', ')})` : ' (it is empty)';
  } catch {
    return '';
  }
}

/** Principals compare with the realm exactly and a realm-less name matching any realm. */
export function samePrincipal(full: string, given: string): boolean {
  if (given.includes('@')) return full === given;
  return full.slice(0, full.lastIndexOf('@')) === given;
}
