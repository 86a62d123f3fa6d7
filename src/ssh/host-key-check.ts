/** Judges a presented host key against the host's known_hosts entries, under a host key mode. */
import { fingerprint, keyTypeOf, type KnownHostEntry } from './known-hosts-parse';
import type { HostKeyMode } from './types';

export type KeyVerdict =
  /** known_hosts lists this key for the host. */
  | { kind: 'known'; fingerprint: string }
  /** The host has no entry: accepted (and recorded) only under accept-changed. */
  | { kind: 'new'; fingerprint: string; accept: boolean }
  /** The host has entries, none of them this key: accepted (and recorded) only under accept-changed. */
  | { kind: 'changed'; fingerprint: string; expected: string[]; accept: boolean }
  /** The key is marked @revoked: never accepted. */
  | { kind: 'revoked'; fingerprint: string }
  /** A key was pinned (ConnectOptions.pin) and this is another one: never accepted. */
  | { kind: 'not-pinned'; fingerprint: string; pinned: string };

/**
 * `pin`: the one key the host may present (a SHA256 fingerprint); known_hosts and the mode then decide nothing but
 * a revocation.
 */
export function judgeHostKey(entries: KnownHostEntry[], key: Buffer, mode: HostKeyMode, pin?: string): KeyVerdict {
  const fp = fingerprint(key);
  if (entries.some((e) => e.marker === '@revoked' && e.key.equals(key))) return { kind: 'revoked', fingerprint: fp };
  if (pin !== undefined) return fp === pin ? { kind: 'known', fingerprint: fp } : { kind: 'not-pinned', fingerprint: fp, pinned: pin };
  // ssh2 cannot check host certificates, so @cert-authority lines neither allow nor forbid a key.
  const plain = entries.filter((e) => !e.marker);
  if (plain.some((e) => e.key.equals(key))) return { kind: 'known', fingerprint: fp };
  const accept = mode === 'accept-changed';
  if (plain.length === 0) return { kind: 'new', fingerprint: fp, accept };
  const sameType = plain.filter((e) => e.keyType === keyTypeOf(key));
  const expected = [...new Set((sameType.length ? sameType : plain).map((e) => fingerprint(e.key)))];
  return { kind: 'changed', fingerprint: fp, expected, accept };
}

/** ssh2 host key algorithm names for a known_hosts key type. */
function algorithmsFor(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms with the types known_hosts has for this host first, as OpenSSH orders them, so a host
 * with several keys presents one rekick can check. With a pin, the pinned key's type (when known_hosts has that
 * key) comes first of all.
 */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], pin?: string): string[] {
  const plain = entries.filter((e) => !e.marker);
  const pinned = pin === undefined ? [] : plain.filter((e) => fingerprint(e.key) === pin);
  const known = [...pinned, ...plain].flatMap((e) => algorithmsFor(e.keyType));
  return [...new Set([...known.filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a)), ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/** Whether the connection goes on with this key: known, or new/changed under a mode that accepts it. */
export function isAccepted(verdict: KeyVerdict): boolean {
  return verdict.kind === 'known' || ((verdict.kind === 'new' || verdict.kind === 'changed') && verdict.accept);
}
