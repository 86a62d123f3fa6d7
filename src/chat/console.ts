/**
 * The lab console as a chat adapter (`rekick lab`): every input line is a channel line in `#lab` from the
 * operator at the terminal (identity console:operator, shown as $USER), who holds every role in the lab config.
 * Whatever the channel would see is printed, one line per line. Works with a pipe and a TTY; ends at EOF.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Identity, Origin } from '../model';
import type { ChatAdapter, MessageHandler, OutgoingMessage } from './chat-adapter';
import { stripIrcFormatting } from './formatting';

export interface ConsoleAdapterOptions {
  input: Readable;
  output: Writable;
  /** Shown as the operator's name (default: $USER, else `operator`). */
  display?: string;
  room?: string;
  log?: Logger;
  /** Called once input has ended and every line typed has been handled. */
  onEnd?: () => void;
  /** The bot's name, for `rekick: status` addressed lines (default `rekick`). */
  nick?: string;
}

export const CONSOLE_ROOM = '#lab';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The console's front door: a line is for rekick when it starts with `!` or is addressed `rekick: ...`,
 * `rekick, ...` or `@rekick: ...` (like a channel line); the command line handed on, else undefined. IRC
 * formatting codes are dropped first (a pasted line keeps them), so they neither hide a `!` nor reach the router.
 */
export function consoleCommandLine(text: string, nick: string): string | undefined {
  const line = stripIrcFormatting(text).trim();
  if (line.startsWith('!')) return line;
  const addressed = new RegExp(`^@?${escapeRe(nick)}[:,]\\s*`, 'i').exec(line);
  return addressed ? line.slice(addressed[0].length) : undefined;
}

export function createConsoleAdapter(options: ConsoleAdapterOptions): ChatAdapter {
  const room = options.room ?? CONSOLE_ROOM;
  const origin: Origin = { adapter: 'console', room };
  const user: Identity = { source: 'console', id: 'operator', display: options.display ?? process.env.USER ?? 'operator' };
  let rl: Interface | undefined;
  let ready = false;
  let ended = false;
  let handling: Promise<void> = Promise.resolve();

  const write = (text: string) => {
    if (!options.output.writable) return;
    for (const line of text.split(/\r?\n/)) options.output.write(`${line}\n`);
  };

  return {
    name: 'console',
    // The terminal shows whole lists.
    replyLines: { room: Infinity, private: Infinity },
    async start(onMessage: MessageHandler) {
      rl = createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
      ready = true;
      rl.on('line', (line) => {
        const text = consoleCommandLine(line, options.nick ?? 'rekick');
        if (!line.trim() || text === undefined) return;
        // When it was typed, not when its turn comes: `!approve all` counts only what was announced by then.
        const receivedAt = new Date();
        // Lines are handled one after another, in the order typed (a pipe delivers them all at once).
        handling = handling.then(async () => {
          try {
            await onMessage({ origin, user, text, receivedAt });
          } catch (err) {
            options.log?.error({ err }, 'console line failed');
          }
        });
      });
      rl.once('close', () => {
        ended = true;
        ready = false;
        void handling.then(() => options.onEnd?.());
      });
    },
    async stop() {
      ready = false;
      rl?.close();
    },
    async send(_target: Origin, message: OutgoingMessage) {
      if (ended && !options.output.writable) return;
      write(message.text);
    },
    noticeRooms() {
      return [origin];
    },
    isReady() {
      return ready;
    },
  };
}
