/**
 * rekick's logger: pino JSON by default, pretty on a TTY (pino-pretty), with secrets redacted wherever they may
 * appear in a logged object.
 */
import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  '*.password',
  '*.token',
  '*.signingSecret',
  '*.key',
  '*.privateKey',
  '*.sessionKey',
  '*.session_key',
  '*.secret',
  'config.irc.sasl.password',
  'config.slack.token',
  'config.slack.signingSecret',
  'config.http.token',
  'headers.authorization',
  'headers["koji-session-key"]',
];

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  /** Where JSON lines go (default stderr, so stdout stays for chat in the lab). */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.REKICK_LOG_LEVEL ?? 'info';
  const base: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'rekick' } };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty ?? process.stderr.isTTY) {
    const pretty = pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app' } });
    return pino(base, survivable(pretty));
  }
  return pino(base, survivable(pino.destination(2)));
}

/**
 * A log destination that fails (stderr on a full disk, a closed pipe, the pretty-printer's worker gone) must not
 * end rekick in the middle of a job: pino handles only EPIPE itself, any other error would be an unhandled
 * 'error', and then its exit hook retries the write forever. After the first error the destination drops what it
 * is given; one line on stderr says so, if stderr still takes it.
 */
export function survivable<T extends NodeJS.EventEmitter & { write(...args: never[]): unknown }>(dest: T): T {
  dest.on('error', (err: NodeJS.ErrnoException) => {
    const d = dest as unknown as { write(): boolean; flushSync?(): void; end?(): void; flush?(): void };
    d.write = () => true;
    d.flushSync = () => undefined;
    d.flush = () => undefined;
    d.end = () => undefined;
    if (err?.code !== 'EPIPE') {
      try {
        writeSync(2, `rekick: the log destination failed (${err?.message ?? String(err)}); logging stops, rekick goes on\n`);
      } catch {
        // stderr itself is what failed: nothing else can take the message
      }
    }
  });
  return dest;
}
