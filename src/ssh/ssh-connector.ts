/**
 * The ssh2 implementation of `RemoteConnector`: host keys always checked against known_hosts (a new key recorded
 * only when the mode accepts it), rekick's key parsed once, and each connection a `SshRemoteHost`.
 */
import type { Logger } from 'pino';
import ssh2, { type ParsedKey } from 'ssh2';
import type { Config } from '../config/schema';
import { abortReason } from '../errors';
import { loadClientKey } from './client-key';
import { connectFailure, hostKeyCheckedConfig, publicKeyAuth } from './connect-config';
import type { KeyVerdict } from './host-key-check';
import { KnownHostsFile } from './known-hosts';
import { fingerprint } from './known-hosts-parse';
import { probeHost, type ProbeOptions } from './probe';
import { SshRemoteHost } from './ssh-remote-host';
import type { ConnectOptions, HostTarget, ProbeResult, RemoteConnector, RemoteHost } from './types';

// ssh2 is CommonJS: take its classes from the default export (Node's ESM loader does not see every named export).
const { Client: SshClient } = ssh2;

export interface SshConnectorOptions {
  user: string;
  /** A path to the private key, or the key itself. */
  privateKey: string | Buffer;
  knownHostsPath: string;
  /** TCP connect plus SSH handshake plus login. */
  connectTimeoutMs: number;
  /** Upper bound of any one command (a command's own `timeoutMs` may only be shorter). */
  commandTimeoutMs: number;
  /** SSH keep-alive interval; 3 unanswered ones drop the connection. Default 15 s. */
  keepaliveMs?: number;
  /** How long `probe` waits for a TCP connection before calling the host down. Default 1.5 s. */
  tcpProbeTimeoutMs?: number;
  log: Logger;
}

export function createSshConnector(options: SshConnectorOptions): RemoteConnector {
  return new SshConnector(options);
}

/** The connector for the config's `ssh:` section (what production and end-to-end tests use). */
export function sshConnectorFor(ssh: Config['ssh'], log: Logger): RemoteConnector {
  return createSshConnector({
    user: ssh.user,
    privateKey: ssh.key,
    knownHostsPath: ssh.knownHosts,
    connectTimeoutMs: ssh.connectTimeout,
    commandTimeoutMs: ssh.commandTimeout,
    log,
  });
}

class SshConnector implements RemoteConnector {
  private readonly knownHosts: KnownHostsFile;
  private key?: ParsedKey;

  constructor(private readonly opts: SshConnectorOptions) {
    this.knownHosts = new KnownHostsFile(opts.knownHostsPath);
  }

  /** rekick's key, read and parsed once (a bad key fails every connection with the same clear error). */
  private async privateKey(): Promise<ParsedKey> {
    this.key ??= await loadClientKey(this.opts.privateKey);
    return this.key;
  }

  async connect(target: HostTarget, options: ConnectOptions): Promise<RemoteHost> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const entries = await this.knownHosts.lookup(target);
    const privateKey = await this.privateKey();
    const log = this.opts.log.child({ host: target.name });
    const client = new SshClient();
    let verdict: KeyVerdict | undefined;
    let presented: Buffer | undefined;
    const who = { user: this.opts.user, knownHostsPath: this.opts.knownHostsPath };

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          client.removeAllListeners('close');
          client.on('error', () => undefined);
          client.destroy();
          reject(err);
        } else resolve();
      };
      const onAbort = () => settle(abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('ready', () => settle());
      client.on('error', (err: Error & { level?: string }) => settle(connectFailure(target, err, verdict, who)));
      client.once('close', () => settle(connectFailure(target, new Error('connection closed during set-up'), verdict, who)));
      client.connect({
        ...hostKeyCheckedConfig(target, entries, options, (v, k) => {
          verdict = v;
          presented = k;
        }),
        username: this.opts.user,
        authHandler: [publicKeyAuth(this.opts.user, privateKey)],
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: this.opts.keepaliveMs ?? 15_000,
        keepaliveCountMax: 3,
      });
    });

    if (verdict && (verdict.kind === 'new' || verdict.kind === 'changed') && presented) {
      let replaced: string[];
      try {
        replaced = await this.knownHosts.replace(target, presented);
      } catch (err) {
        client.end(); // known_hosts cannot be written (full disk, read-only): no connection without the key recorded
        throw err;
      }
      const previous = verdict.kind === 'changed' ? (verdict.expected[0] ?? replaced[0]) : undefined;
      // Expected: keys are only accepted after a reinstall (hostKeyPolicy), and chat and the job say so too; a key
      // that changes when it should not fails the connection with HostKeyChangedError, and its step with it.
      log.info({ previous, fingerprint: verdict.fingerprint, knownHosts: this.opts.knownHostsPath }, 'accepted and recorded a new host key after the reinstall');
      options.onKeyChanged?.({ previous, fingerprint: verdict.fingerprint });
    }
    log.debug('ssh connected');
    return new SshRemoteHost(target, client, this.opts, log, verdict?.fingerprint);
  }

  async knownHostKeys(target: HostTarget): Promise<string[]> {
    const entries = await this.knownHosts.lookup(target);
    return [...new Set(entries.filter((e) => !e.marker).map((e) => fingerprint(e.key)))];
  }

  probe(target: HostTarget, options: ProbeOptions): Promise<ProbeResult> {
    return probeHost({ knownHosts: this.knownHosts, user: this.opts.user, tcpProbeTimeoutMs: this.opts.tcpProbeTimeoutMs }, target, options);
  }
}
