/**
 * One command running on an SSH channel, from start to its outcome: output, exit, timeout and abort, and the kill
 * of a hung or aborted one by its process group over a second channel (OpenSSH ignores the SSH "signal" request).
 */
import type { Logger } from 'pino';
import type { Client, ClientChannel } from 'ssh2';
import { abortReason } from '../errors';
import { RemoteCommandError, RemoteTimeoutError, SshConnectError } from './errors';
import type { OutputCollector } from './output-lines';
import type { ExecOptions, ExecResult } from './types';

/** The connection a command runs on, as the command needs it. */
export interface ExecChannel {
  client: Client;
  /** The host's name, for errors and logs. */
  host: string;
  /** Upper bound of any one command (a command's own `timeoutMs` may only be shorter). */
  commandTimeoutMs: number;
  log: Logger;
  isClosed(): boolean;
}

/** How long a command killed by a foreign signal waits to see whether its connection drops too. */
const SIGNAL_DEATH_GRACE_MS = 300;
const KILL_GRACE_MS = 3000;

/** What a running command needs to know about itself. */
export interface CommandSpec {
  host: string;
  /** The command as logs and errors show it (secrets redacted). */
  shown: string;
  timeoutMs: number;
  signal?: AbortSignal;
  allowFailure?: boolean;
  /** Keep stdout as bytes (readFile) instead of lines. */
  keepRaw?: boolean;
}

export type Outcome = { result: ExecResult; raw: Buffer };

/** One command's channel, from start to the outcome: its output, its exit, its timeout and abort, its kill. */
export class RunningCommand {
  private exitCode: number | null = null;
  private exitSignal: string | undefined;
  private exited = false;
  private killedBy: 'timeout' | 'abort' | undefined;
  private settled = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly raw: Buffer[] = [];
  private readonly onAbort = () => this.kill('abort');

  constructor(
    private readonly ch: ExecChannel,
    private readonly stream: ClientChannel,
    private readonly spec: CommandSpec,
    private readonly collector: OutputCollector,
    private readonly pid: () => number | undefined,
    private readonly settle: { resolve: (outcome: Outcome) => void; reject: (err: unknown) => void },
  ) {}

  start(stdin: ExecOptions['stdin']): void {
    const { stream, spec, collector } = this;
    spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = Number.isFinite(spec.timeoutMs) ? setTimeout(() => this.kill('timeout'), spec.timeoutMs) : undefined;
    stream.on('data', (d: Buffer) => {
      if (spec.keepRaw) this.raw.push(d);
      else collector.push('stdout', d);
    });
    stream.stderr.on('data', (d: Buffer) => collector.push('stderr', d));
    stream.on('exit', (code: number | null, sig?: string) => {
      this.exited = true;
      this.exitCode = code ?? null;
      if (sig) this.exitSignal = sig;
    });
    stream.on('close', () => this.closed());
    stream.on('error', () => undefined);
    stream.end(stdin ?? undefined);
  }

  private closed(): void {
    // A command killed by a signal we did not send may have died with its host (sshd stopping kills its
    // sessions first): wait a moment for the connection to drop, and call that a lost connection.
    if (this.exited && this.exitSignal && !this.killedBy) {
      setTimeout(() => {
        if (this.ch.isClosed()) this.exited = false;
        this.finish();
      }, SIGNAL_DEATH_GRACE_MS);
      return;
    }
    this.finish();
  }

  private kill(why: 'timeout' | 'abort'): void {
    if (this.killedBy || this.settled) return;
    this.killedBy = why;
    const pid = this.pid();
    this.ch.log.warn({ command: this.spec.shown, why, pid }, 'killing remote command');
    if (pid !== undefined) killGroup(this.ch, pid);
    this.stream.close();
    this.graceTimer = setTimeout(() => this.finish(), KILL_GRACE_MS);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    const { collector } = this;
    collector.end();
    const result: ExecResult = {
      code: this.exitCode,
      signal: this.exitSignal,
      stdout: collector.stdout,
      stderr: collector.stderr,
      tail: collector.tail,
    };
    const failure = commandFailure(this.spec, { killedBy: this.killedBy, exited: this.exited }, result);
    if (failure) return this.settle.reject(failure);
    this.ch.log.debug({ command: this.spec.shown, code: this.exitCode, signal: this.exitSignal }, 'exec done');
    this.settle.resolve({ result, raw: Buffer.concat(this.raw) });
  }
}

/** The error a command that ended is told as (killed, connection lost, non-zero exit), or undefined: it succeeded. */
export function commandFailure(
  run: { host: string; shown: string; timeoutMs: number; signal?: AbortSignal; allowFailure?: boolean },
  end: { killedBy?: 'timeout' | 'abort'; exited: boolean },
  result: ExecResult,
): Error | undefined {
  const { host, shown } = run;
  if (end.killedBy === 'timeout') return new RemoteTimeoutError(host, shown, run.timeoutMs, result.tail);
  if (end.killedBy === 'abort') return abortReason(run.signal!);
  if (!end.exited && !run.allowFailure) return new SshConnectError(host, `the connection was lost while \`${shown}\` ran`);
  if (end.exited && result.code !== 0 && !run.allowFailure) return new RemoteCommandError(host, shown, result);
  return undefined;
}

/** Kills the command's process group over a second channel. */
export function killGroup(ch: ExecChannel, pid: number): void {
  if (ch.isClosed() || !Number.isInteger(pid) || pid <= 1) return;
  const failed = (err: Error) => ch.log.warn({ pid, err: err.message }, 'could not kill the remote command');
  try {
    ch.client.exec(`kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid}`, (err, stream) => {
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
