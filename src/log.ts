/**
 * rekick's logger: pino JSON by default, pretty on a TTY (pino-pretty), with secrets redacted wherever they may
 * appear in a logged object.
 */
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
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app' } } });
  }
  return pino(base, pino.destination(2));
}
