/**
 * One command on an open SSH connection: wrapped so that its pid is known, output streamed as redacted lines, and
 * bounded by a timeout (running-command.ts).
 */
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { abortReason } from '../errors';
import { SshConnectError } from './errors';
import { createRedactor, OutputCollector } from './output-lines';
import { RunningCommand, type CommandSpec, type ExecChannel, type Outcome } from './running-command';
import type { ExecOptions } from './types';

/**
 * The line that tells a command's pid: a nonce drawn once per process and a counter make each marker unique without
 * a call into the random generator per command.
 */
const MARKER_NONCE = randomBytes(6).toString('hex');
let markerSeq = 0;

/** Runs one command; resolves with its result (and stdout's bytes with `keepRaw`), or rejects with why it failed. */
export function runRemote(ch: ExecChannel, command: string, options: ExecOptions & { keepRaw?: boolean }): Promise<Outcome> {
  const host = ch.host;
  const redact = createRedactor(options.secrets);
  const shown = redact(command);
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ch.isClosed()) return Promise.reject(new SshConnectError(host, `the connection was lost before \`${shown}\` could run`));
  const timeoutMs = Math.min(options.timeoutMs ?? Infinity, ch.commandTimeoutMs);
  const marked = pidMarked(command);
  const collector = new OutputCollector(redact, options.onLine, marked.spot);
  ch.log.debug({ command: shown, timeoutMs }, 'exec');

  const spec: CommandSpec = { host, shown, timeoutMs, signal, allowFailure: options.allowFailure, keepRaw: options.keepRaw };
  return new Promise((resolve, reject) => {
    ch.client.exec(marked.wrapped, (err, stream: ClientChannel) => {
      if (err) {
        reject(new SshConnectError(host, `cannot start \`${shown}\`: ${err.message}`, { cause: err }));
        return;
      }
      new RunningCommand(ch, stream, spec, collector, marked.pid, { resolve, reject }).start(options.stdin);
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
