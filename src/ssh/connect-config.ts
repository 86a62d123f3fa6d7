/**
 * What every ssh2 connection of the connector shares: the host key checked against known_hosts (or a pin) as
 * ssh2 presents it, and a failed set-up told as the error that says why (key, login or connection).
 */
import type { ConnectConfig, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import {
  HostKeyChangedError,
  HostKeyPinnedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshAuthError,
  SshConnectError,
} from './errors';
import { isAccepted, judgeHostKey, preferredHostKeyAlgorithms, type KeyVerdict } from './host-key-check';
import type { KnownHostEntry } from './known-hosts-parse';
import type { ConnectOptions, HostTarget } from './types';

/** Address, host key algorithms and the host key check; `seen` is told each verdict with the key presented. */
export function hostKeyCheckedConfig(
  target: HostTarget,
  entries: KnownHostEntry[],
  options: Pick<ConnectOptions, 'hostKeyMode' | 'pin'>,
  seen: (verdict: KeyVerdict, key: Buffer) => void,
): ConnectConfig {
  return {
    host: target.address,
    port: target.port,
    algorithms: { serverHostKey: preferredHostKeyAlgorithms(entries, options.pin) as never },
    hostVerifier: (key: Buffer) => {
      const verdict = judgeHostKey(entries, key, options.hostKeyMode, options.pin);
      seen(verdict, key);
      return isAccepted(verdict);
    },
  };
}

/** Straight to public key auth with the parsed key (no 'none' attempt first, no per-connection parsing). */
export function publicKeyAuth(username: string, key: ParsedKey): PublicKeyAuthMethod {
  return { type: 'publickey', username, key };
}

/** The error a failed connection set-up is told as: a refused host key first, then login, then the connection. */
export function connectFailure(
  target: HostTarget,
  err: Error & { level?: string },
  verdict: KeyVerdict | undefined,
  who: { user: string; knownHostsPath: string },
): Error {
  const kh = who.knownHostsPath;
  if (verdict && !isAccepted(verdict)) {
    if (verdict.kind === 'changed') return new HostKeyChangedError(target.name, verdict.expected, verdict.fingerprint, kh);
    if (verdict.kind === 'new') return new HostKeyUnknownError(target.name, verdict.fingerprint, kh);
    if (verdict.kind === 'revoked') return new HostKeyRevokedError(target.name, verdict.fingerprint, kh);
    if (verdict.kind === 'not-pinned') return new HostKeyPinnedError(target.name, verdict.pinned, verdict.fingerprint);
  }
  if (err.level === 'client-authentication') return new SshAuthError(target.name, who.user);
  return new SshConnectError(target.name, err.message, { cause: err });
}
