/**
 * One command on an open SSH connection: output streamed as redacted lines, bounded by a timeout, and a hung or
 * aborted one killed by its process group over a second channel (OpenSSH ignores the SSH "signal" request).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Client, ClientChannel } from 'ssh2';
import { abortReason } from '../errors';
import { RemoteCommandError, RemoteTimeoutError, SshConnectError } from './errors';
import { createRedactor, OutputCollector } from './output-lines';
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

/**
 * The line that tells a command's pid: a nonce drawn once per process and a counter make each marker unique without
 * a call into the random generator per command.
 */
const MARKER_NONCE = randomBytes(6).toString('hex');
let markerSeq = 0;

/** How long a command killed by a foreign signal waits to see whether its connection drops too. */
const SIGNAL_DEATH_GRACE_MS = 300;
const KILL_GRACE_MS = 3000;

export function runRemote(ch: ExecChannel, command: string, options: ExecOptions & { keepRaw?: boolean }): Promise<{ result: ExecResult; raw: Buffer }> {
  const host = ch.host;
  const redact = createRedactor(options.secrets);
  const shown = redact(command);
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ch.isClosed()) return Promise.reject(new SshConnectError(host, `the connection was lost before \`${shown}\` could run`));
  const timeoutMs = Math.min(options.timeoutMs ?? Infinity, ch.commandTimeoutMs);
  const marked = pidMarked(command);
  const collector = new OutputCollector(redact, options.onLine, marked.spot);
  const raw: Buffer[] = [];
  ch.log.debug({ command: shown, timeoutMs }, 'exec');

  return new Promise((resolve, reject) => {
    ch.client.exec(marked.wrapped, (err, stream: ClientChannel) => {
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
        const failure = commandFailure({ host, shown, timeoutMs, signal, allowFailure: options.allowFailure }, { killedBy, exited }, result);
        if (failure) return reject(failure);
        ch.log.debug({ command: shown, code: exitCode, signal: exitSignal }, 'exec done');
        resolve({ result, raw: Buffer.concat(raw) });
      };

      const kill = (why: 'timeout' | 'abort') => {
        if (killedBy || settled) return;
        killedBy = why;
        const pid = marked.pid();
        ch.log.warn({ command: shown, why, pid }, 'killing remote command');
        if (pid !== undefined) killGroup(ch, pid);
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
            if (ch.isClosed()) exited = false;
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

/**
 * The command wrapped so that the login shell first prints its pid (it leads its own session and process group) on
 * stderr after a marker; `spot` takes that line out of the output, and `pid` tells it once seen.
 */
function pidMarked(command: string): { wrapped: string; spot: (line: string, stream: 'stdout' | 'stderr') => boolean; pid: () => number | undefined } {
  const marker = `rekick-pid-${MARKER_NONCE}-${(markerSeq = (markerSeq + 1) % Number.MAX_SAFE_INTEGER).toString(36)}`;
  let pid: number | undefined;
  return {
    wrapped: `printf '%s %s\\n' ${marker} $$ >&2\n${command}`,
    spot: (line, stream) => {
      if (stream === 'stderr' && pid === undefined && line.startsWith(`${marker} `)) {
        pid = Number(line.slice(marker.length + 1));
        return false;
      }
      return true;
    },
    pid: () => pid,
  };
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
