/**
 * The ssh2 implementation of `RemoteConnector`: host keys always checked against known_hosts, one connection per
 * `RemoteHost` reused for all its commands, output streamed as redacted lines, every command bounded and a hung
 * one killed (by its process group: OpenSSH ignores the SSH "signal" request).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../config/schema';
import type { Logger } from 'pino';
import ssh2, { type Client, type ClientChannel, type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import { parseClientKey } from './client-key';
import { abortReason, CodedError, StepError } from '../errors';
import {
  HostKeyChangedError,
  HostKeyPinnedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  RemoteCommandError,
  RemoteTimeoutError,
  SshAuthError,
  SshConnectError,
} from './errors';
import { judgeHostKey, preferredHostKeyAlgorithms, type KeyVerdict } from './host-key-check';
import { fingerprint, KnownHostsFile, type KnownHostEntry } from './known-hosts';
import { createRedactor, OutputCollector } from './output-lines';
import { shellQuote } from './shell-quote';
import type {
  ConnectOptions,
  ExecOptions,
  ExecResult,
  HostTarget,
  ProbeResult,
  RemoteConnector,
  RemoteHost,
  WriteFileOptions,
} from './types';

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
    if (this.key) return this.key;
    const k = this.opts.privateKey;
    let bytes: Buffer;
    let source = 'given inline';
    if (Buffer.isBuffer(k)) bytes = k;
    else if (k.includes('-----BEGIN')) bytes = Buffer.from(k);
    else {
      source = k;
      try {
        bytes = await readFile(k);
      } catch (err) {
        throw new StepError('E_SSH_KEY', `cannot read rekick's SSH key ${k}: ${(err as Error).message} (ssh.key in the config)`, {
          cause: err,
        });
      }
    }
    this.key = parseClientKey(bytes, source);
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
      client.on('error', (err: Error & { level?: string }) => settle(this.translate(target, err, verdict)));
      client.once('close', () => settle(this.translate(target, new Error('connection closed during set-up'), verdict)));
      client.connect({
        ...this.baseConfig(target, entries, options, (v, k) => {
          verdict = v;
          presented = k;
        }),
        username: this.opts.user,
        // Straight to public key auth with the parsed key (no 'none' attempt first, no per-connection parsing).
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

  async probe(target: HostTarget, options: ConnectOptions & { timeoutMs: number; depth?: 'tcp' | 'handshake' }): Promise<ProbeResult> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const started = Date.now();
    // known_hosts first: the connected socket goes to ssh2 at once, with nothing awaited in between.
    const entries: KnownHostEntry[] = options.depth === 'tcp' ? [] : await this.knownHosts.lookup(target);
    const sock = await tcpConnect(target, Math.min(options.timeoutMs, this.opts.tcpProbeTimeoutMs ?? 1500), signal);
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
      const rejected = () => verdict !== undefined && !accepted(verdict);
      const onAbort = () => done(abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => done('port-open'), remaining);
      client.once('handshake', () => done('handshake'));
      client.on('error', () => done(rejected() ? 'key-mismatch' : 'port-open'));
      client.once('close', () => done(rejected() ? 'key-mismatch' : 'port-open'));
      client.connect({
        ...this.baseConfig(target, entries, options, (v) => {
          verdict = v;
        }),
        sock,
        username: this.opts.user,
        readyTimeout: remaining + 1000,
      });
    });
  }

  private baseConfig(
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
        return accepted(verdict);
      },
    };
  }

  private translate(target: HostTarget, err: Error & { level?: string }, verdict: KeyVerdict | undefined): Error {
    const kh = this.opts.knownHostsPath;
    if (verdict && !accepted(verdict)) {
      if (verdict.kind === 'changed') return new HostKeyChangedError(target.name, verdict.expected, verdict.fingerprint, kh);
      if (verdict.kind === 'new') return new HostKeyUnknownError(target.name, verdict.fingerprint, kh);
      if (verdict.kind === 'revoked') return new HostKeyRevokedError(target.name, verdict.fingerprint, kh);
      if (verdict.kind === 'not-pinned') return new HostKeyPinnedError(target.name, verdict.pinned, verdict.fingerprint);
    }
    if (err.level === 'client-authentication') return new SshAuthError(target.name, this.opts.user);
    return new SshConnectError(target.name, err.message, { cause: err });
  }
}

function publicKeyAuth(username: string, key: ParsedKey): PublicKeyAuthMethod {
  return { type: 'publickey', username, key };
}

function accepted(verdict: KeyVerdict): boolean {
  return verdict.kind === 'known' || ((verdict.kind === 'new' || verdict.kind === 'changed') && verdict.accept);
}

/**
 * A TCP connection, or undefined when refused, unreachable or not answered in time. The connection keeps an error
 * listener: a reset before its new owner listens (ssh2) must not be an unhandled 'error', which would end the
 * process; the owner sees the socket destroyed.
 */
function tcpConnect(target: HostTarget, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: target.address, port: target.port });
    const done = (ok: boolean, err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('connect');
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      if (!ok) sock.destroy();
      if (err) reject(err);
      else resolve(ok ? sock : undefined);
    };
    const onAbort = () => done(false, abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * The line that tells a command's pid: a nonce drawn once per process and a counter make each marker unique without
 * a call into the random generator per command.
 */
const MARKER_NONCE = randomBytes(6).toString('hex');
let markerSeq = 0;

/** How long a command killed by a foreign signal waits to see whether its connection drops too. */
const SIGNAL_DEATH_GRACE_MS = 300;
const KILL_GRACE_MS = 3000;

class SshRemoteHost implements RemoteHost {
  private closed = false;

  constructor(
    readonly target: HostTarget,
    private readonly client: Client,
    private readonly opts: SshConnectorOptions,
    private readonly log: Logger,
    readonly hostKey?: string,
  ) {
    client.on('error', (err) => log.warn({ err: err.message }, 'ssh connection error'));
    client.on('close', () => {
      this.closed = true;
    });
  }

  get open(): boolean {
    return !this.closed;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.run(command, options).then((r) => r.result);
  }

  async writeFile(file: string, content: string | Buffer, options: WriteFileOptions): Promise<void> {
    if (!file.startsWith('/')) throw new StepError('E_REMOTE_PATH', `expected an absolute path on ${this.target.name}, got "${file}"`);
    const dir = path.posix.dirname(file);
    const tmp = `${dir}/.${path.posix.basename(file)}.rekick-${randomBytes(4).toString('hex')}`;
    const mode = (options.mode & 0o7777).toString(8).padStart(4, '0');
    const q = shellQuote;
    const steps = [
      `mkdir -p -- ${q(dir)}`,
      `(umask 077 && cat > ${q(tmp)})`,
      `chmod ${mode} -- ${q(tmp)}`,
      ...(options.owner ? [`chown -- ${q(options.owner)} ${q(tmp)}`] : []),
      `mv -f -- ${q(tmp)} ${q(file)}`,
    ];
    const command = `${steps.join(' && ')} || { rc=$?; rm -f -- ${q(tmp)}; exit $rc; }`;
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    this.log.debug({ file, mode, owner: options.owner, bytes: data.length, secret: Boolean(options.secret) }, 'writing file');
    await this.exec(command, { stdin: data, secrets: options.secret ? [data.toString('utf8')] : [] });
  }

  async readFile(file: string): Promise<Buffer> {
    const { raw } = await this.run(`cat -- ${shellQuote(file)}`, { keepRaw: true });
    return raw;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  private run(command: string, options: ExecOptions & { keepRaw?: boolean }): Promise<{ result: ExecResult; raw: Buffer }> {
    const host = this.target.name;
    const redact = createRedactor(options.secrets);
    const shown = redact(command);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.closed) return Promise.reject(new SshConnectError(host, `the connection was lost before \`${shown}\` could run`));
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, this.opts.commandTimeoutMs);
    const marker = `rekick-pid-${MARKER_NONCE}-${(markerSeq = (markerSeq + 1) % Number.MAX_SAFE_INTEGER).toString(36)}`;
    let pid: number | undefined;
    const collector = new OutputCollector(redact, options.onLine, (line, stream) => {
      if (stream === 'stderr' && pid === undefined && line.startsWith(`${marker} `)) {
        pid = Number(line.slice(marker.length + 1));
        return false;
      }
      return true;
    });
    const raw: Buffer[] = [];
    // The login shell prints its pid (it leads its own session and process group) so a hung command can be killed.
    const wrapped = `printf '%s %s\\n' ${marker} $$ >&2\n${command}`;
    this.log.debug({ command: shown, timeoutMs }, 'exec');

    return new Promise((resolve, reject) => {
      this.client.exec(wrapped, (err, stream: ClientChannel) => {
        if (err) {
          reject(new SshConnectError(host, `cannot start \`${shown}\`: ${err.message}`, { cause: err }));
          return;
        }
        let exitCode: number | null = null;
        let exitSignal: string | undefined;
        let exited = false;
        let killedBy: 'timeout' | 'abort' | undefined;
        let settled = false;
        let graceTimer: NodeJS.Timeout | undefined;

        const finish = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearTimeout(graceTimer);
          signal?.removeEventListener('abort', onAbort);
          collector.end();
          const result: ExecResult = {
            code: exitCode,
            signal: exitSignal,
            stdout: collector.stdout,
            stderr: collector.stderr,
            tail: collector.tail,
          };
          if (killedBy === 'timeout') return reject(new RemoteTimeoutError(host, shown, timeoutMs, result.tail));
          if (killedBy === 'abort') return reject(abortReason(signal!));
          if (!exited && !options.allowFailure) {
            return reject(new SshConnectError(host, `the connection was lost while \`${shown}\` ran`));
          }
          if (exited && exitCode !== 0 && !options.allowFailure) {
            return reject(new RemoteCommandError(host, shown, result));
          }
          this.log.debug({ command: shown, code: exitCode, signal: exitSignal }, 'exec done');
          resolve({ result, raw: Buffer.concat(raw) });
        };

        const kill = (why: 'timeout' | 'abort') => {
          if (killedBy || settled) return;
          killedBy = why;
          this.log.warn({ command: shown, why, pid }, 'killing remote command');
          if (pid !== undefined) this.killGroup(pid);
          stream.close();
          graceTimer = setTimeout(finish, KILL_GRACE_MS);
        };
        const onAbort = () => kill('abort');
        signal?.addEventListener('abort', onAbort, { once: true });
        const timer = Number.isFinite(timeoutMs) ? setTimeout(() => kill('timeout'), timeoutMs) : undefined;

        stream.on('data', (d: Buffer) => {
          if (options.keepRaw) raw.push(d);
          else collector.push('stdout', d);
        });
        stream.stderr.on('data', (d: Buffer) => collector.push('stderr', d));
        stream.on('exit', (code: number | null, sig?: string) => {
          exited = true;
          exitCode = code ?? null;
          if (sig) exitSignal = sig;
        });
        stream.on('close', () => {
          // A command killed by a signal we did not send may have died with its host (sshd stopping kills its
          // sessions first): wait a moment for the connection to drop, and call that a lost connection.
          if (exited && exitSignal && !killedBy) {
            setTimeout(() => {
              if (this.closed) exited = false;
              finish();
            }, SIGNAL_DEATH_GRACE_MS);
            return;
          }
          finish();
        });
        stream.on('error', () => undefined);
        stream.end(options.stdin ?? undefined);
      });
    });
  }

  /** Kills the command's process group over a second channel. */
  private killGroup(pid: number): void {
    if (this.closed || !Number.isInteger(pid) || pid <= 1) return;
    const failed = (err: Error) => this.log.warn({ pid, err: err.message }, 'could not kill the remote command');
    try {
      this.client.exec(`kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid}`, (err, stream) => {
        if (err) return failed(err);
        stream.on('close', () => undefined);
        stream.resume();
        stream.stderr.resume();
        stream.end();
      });
    } catch (err) {
      // ssh2 throws "Not connected" at once when the connection is going down and not yet closed (the host is
      // rebooting or gone): called from a timer or an abort listener, that throw would end the process.
      failed(err as Error);
    }
  }
}
