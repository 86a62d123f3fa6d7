/**
 * `RemoteConnector.probe`: is the host down, is its SSH port open, does it complete an SSH handshake with a host
 * key we accept (or present one we refuse)? No login: the handshake is where the answer is.
 */
import ssh2 from 'ssh2';
import { abortReason } from '../errors';
import { hostKeyCheckedConfig } from './connect-config';
import { isAccepted, type KeyVerdict } from './host-key-check';
import type { KnownHostsFile } from './known-hosts';
import type { KnownHostEntry } from './known-hosts-parse';
import { tcpConnect } from './tcp-connect';
import type { ConnectOptions, HostTarget, ProbeResult } from './types';

// ssh2 is CommonJS: take its classes from the default export (Node's ESM loader does not see every named export).
const { Client: SshClient } = ssh2;

export interface ProbeDeps {
  knownHosts: KnownHostsFile;
  user: string;
  /** How long to wait for a TCP connection before calling the host down. Default 1.5 s. */
  tcpProbeTimeoutMs?: number;
}

export type ProbeOptions = ConnectOptions & { timeoutMs: number; depth?: 'tcp' | 'handshake' };

export async function probeHost(deps: ProbeDeps, target: HostTarget, options: ProbeOptions): Promise<ProbeResult> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const started = Date.now();
  // known_hosts first: the connected socket goes to ssh2 at once, with nothing awaited in between.
  const entries: KnownHostEntry[] = options.depth === 'tcp' ? [] : await deps.knownHosts.lookup(target);
  const sock = await tcpConnect(target, Math.min(options.timeoutMs, deps.tcpProbeTimeoutMs ?? 1500), signal);
  if (!sock) return 'down';
  if (options.depth === 'tcp' || sock.destroyed) {
    sock.destroy();
    return 'port-open'; // (destroyed: it was reset as soon as it connected)
  }
  const remaining = Math.max(200, options.timeoutMs - (Date.now() - started));
  const client = new SshClient();
  let verdict: KeyVerdict | undefined;
  return new Promise<ProbeResult>((resolve, reject) => {
    let settled = false;
    const done = (result: ProbeResult | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.on('error', () => undefined);
      client.destroy();
      sock.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const rejected = () => verdict !== undefined && !isAccepted(verdict);
    const onAbort = () => done(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done('port-open'), remaining);
    client.once('handshake', () => done('handshake'));
    client.on('error', () => done(rejected() ? 'key-mismatch' : 'port-open'));
    client.once('close', () => done(rejected() ? 'key-mismatch' : 'port-open'));
    client.connect({
      ...hostKeyCheckedConfig(target, entries, options, (v) => {
        verdict = v;
      }),
      sock,
      username: deps.user,
      readyTimeout: remaining + 1000,
    });
  });
}
