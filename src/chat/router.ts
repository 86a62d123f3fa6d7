/**
 * The router: a chat line -> command and words -> role check -> parse -> run. Every refusal is one line that
 * says why and changes nothing; the router never throws. Hostile text is cleaned first: IRC formatting codes
 * are dropped, other control characters and over-long lines refuse the line, and host names must match exactly
 * (the commands check them). Every command that may change something, and every refusal, is audited (the
 * audit callback sorts them: src/audit/audit-kind.ts); a command anyone may run only reads, and its success is
 * not audited (a debug log line), so a read-only command by anyone never costs a write. Lines over a sender's
 * rate limit are not audited either: the first gets one notice, the rest silence; they are counted.
 */
import type { Logger } from 'pino';
import { describeUsage, findCommand } from '../../commands/help';
import { didYouMean } from '../hosts/did-you-mean';
import type { CommandContext, CommandSpec, HostsInfo, RollingApi } from '../../commands/types';
import { CodedError, UserError } from '../errors';
import type { ExecutorApi } from '../executor/types';
import type { AuditEntry } from '../model';
import type { ChatAdapter, ChatMessage } from './chat-adapter';
import { listRoomFor } from './long-reply';
import { CommandRateLimit, RATE_LIMITED, rateLimitNotice, type RateLimitConfig } from './rate-limit';
import type { Roles } from './roles';

export const MAX_LINE = 512;

export type Reply = (text: string, options?: { refusal?: boolean }) => Promise<void>;

export interface RouterOptions {
  executor: ExecutorApi;
  commands: readonly CommandSpec[];
  roles: Roles;
  log: Logger;
  /** Records an audit entry (e.g. the executor's audit); its failures are logged, never shown. */
  audit(entry: AuditEntry): void | Promise<void>;
  /** Where replies go when `handle` is given no reply function: the adapter named in the message's origin. */
  adapters?: readonly ChatAdapter[];
  rolling?: RollingApi;
  hostsInfo?: HostsInfo;
  /** The bot's name, for `rekick: status` addressed lines (default `rekick`). */
  nick?: string;
  now?: () => Date;
  /** Whether a job's ready line had been handed to a chat by `at` (ApprovalPrompts.seenBefore), for `!approve all`. */
  seenBefore?: (jobId: string, at: Date) => boolean;
  /** Per-identity command rate limits (config `chat.rateLimit`); none when absent. */
  rateLimit?: RateLimitConfig;
  /** Counts each line the rate limit refused (such lines are not audited). */
  onRateLimited?: (adapter: string) => void;
  /** The status page's address, named where a long list is summarised. */
  statusUrl?: () => string | undefined;
}

export interface Router {
  /** Handles one chat line; resolves when the command (or refusal) is done. Never rejects. */
  handle(message: ChatMessage, reply?: Reply): Promise<void>;
}

/** IRC formatting: bold, colour (with its digits), hex colour, reset, reverse, italic, strike, underline, mono. */
const IRC_FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

export class LineError extends UserError {}

/** Drops IRC formatting; refuses control characters, bidi/zero-width tricks and over-long lines. */
export function cleanLine(text: string): string {
  if (text.length > MAX_LINE) throw new LineError(`line too long (${text.length} characters; at most ${MAX_LINE}); nothing done`, 'E_TOO_LONG');
  const plain = text.replace(IRC_FORMATTING, '').replace(/\t/g, ' ');
  if (CONTROL.test(plain)) throw new LineError('the line has control or invisible characters; type it plainly; nothing done', 'E_CONTROL');
  return plain;
}

/** Words separated by spaces; "double" or 'single' quotes keep spaces inside one word. */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new LineError(`unterminated ${quote} quote; nothing done`, 'E_USAGE');
  if (inWord) words.push(cur);
  return words;
}

/** The command text of a line, or undefined when the line is not meant for rekick. */
export function commandText(message: ChatMessage, nick: string): string | undefined {
  const text = message.text.trim();
  if (message.isSlashCommand) return text.replace(/^!/, '');
  if (text.startsWith('!')) return text.slice(1);
  const addressed = new RegExp(`^@?${nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[:,]\\s*`, 'i').exec(text);
  if (addressed) return text.slice(addressed[0].length).replace(/^!/, '');
  if (message.origin.private) return text.replace(/^!/, '');
  return undefined;
}

export function createRouter(options: RouterOptions): Router {
  const { executor, commands, roles, log } = options;
  const nick = options.nick ?? 'rekick';
  const now = options.now ?? (() => new Date());
  const names = commands.map((c) => c.name);
  const rateLimit = options.rateLimit && new CommandRateLimit(options.rateLimit, roles, { now: () => now().getTime() });

  const defaultReply = (message: ChatMessage): Reply => {
    return async (text, opts) => {
      const adapter = options.adapters?.find((a) => a.name === message.origin.adapter);
      if (!adapter) {
        log.warn({ origin: message.origin }, 'no adapter to reply through');
        return;
      }
      await adapter.send(message.origin, {
        text,
        kind: 'reply',
        ephemeralTo: opts?.refusal && (message.isSlashCommand || message.interactive) ? message.user : undefined,
      });
    };
  };

  async function audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    try {
      await options.audit({ at: now().toISOString(), ...entry });
    } catch (err) {
      log.error({ err, action: entry.action }, 'audit failed');
    }
  }

  async function safeReply(reply: Reply, text: string, refusal: boolean): Promise<void> {
    try {
      await reply(text, { refusal });
    } catch (err) {
      log.error({ err }, 'reply failed');
    }
  }

  async function handle(arrived: ChatMessage, given?: Reply): Promise<void> {
    const message: ChatMessage = arrived.receivedAt ? arrived : { ...arrived, receivedAt: now() };
    const reply = given ?? defaultReply(message);
    const base = { who: message.user, origin: message.origin };
    let action = 'chat';
    const refuse = async (why: string, detail?: string) => {
      await audit({ ...base, action, outcome: 'refused', detail: detail ? `${why} [${detail}]` : why });
      await safeReply(reply, why, true);
    };
    try {
      // Lines not meant for rekick are ignored, however odd; lines meant for it are cleaned or refused.
      const head = message.text.slice(0, 64).replace(IRC_FORMATTING, '');
      if (commandText({ ...message, text: head }, nick) === undefined) return;
      // Every line meant for rekick counts against its sender's rate limit, refused or not.
      const rate = rateLimit?.check(message);
      if (rate && !rate.allowed) {
        options.onRateLimited?.(message.origin.adapter);
        if (rate.notify) {
          log.warn({ who: rate.key, origin: message.origin, code: RATE_LIMITED, waitMs: rate.waitMs }, 'chat commands rate-limited');
          await safeReply(reply, rateLimitNotice(message.user.display || rate.key || message.user.source, rate), true);
        }
        return;
      }
      const text = commandText({ ...message, text: cleanLine(message.text) }, nick);
      if (text === undefined) return;
      const words = tokenize(text);
      const name = words[0];
      // `!`, `!!!` or `! 1`: not a command, not worth a refusal. A word starting with any letter is meant as a
      // command (`!ｄeny`, `!геinstall` typed with another keyboard layout): it gets its refusal, not silence.
      if (!name || !/^[\p{L}\p{Nl}]/u.test(name)) return;
      const spec = findCommand(commands, name);
      const line = text.slice(0, 200);
      if (!spec) {
        await refuse(`unknown command !${name.slice(0, 32)}${didYouMean(name, names, '!')} (!help lists the commands)`, line);
        return;
      }
      action = `!${spec.name}`;
      const args = words.slice(1);
      const role = spec.roleFor?.(args) ?? spec.role;
      const denied = roles.refusal(message.user, role);
      if (denied) {
        await refuse(`!${spec.name} refused: ${denied}`, line);
        return;
      }
      let parsed: object;
      try {
        parsed = spec.parse(args);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        await refuse(`!${spec.name}: ${err.message} — ${describeUsage(spec)}`, line);
        return;
      }
      const ctx: CommandContext = {
        message,
        args: parsed,
        executor,
        request: { by: message.user, origin: message.origin },
        reply: (t) => safeReply(reply, t, false),
        log: log.child({ command: spec.name }),
        roles,
        commands,
        rolling: options.rolling,
        hostsInfo: options.hostsInfo,
        now,
        seenBefore: options.seenBefore,
        listRoom: listRoomFor(message, options.adapters, nick, options.statusUrl?.()),
      };
      try {
        await spec.run(ctx);
      } catch (err) {
        if (err instanceof UserError) {
          await refuse(`!${spec.name} refused: ${err.message}`, line);
          return;
        }
        throw err;
      }
      if (role === 'anyone') {
        log.debug({ who: message.user, origin: message.origin, action, detail: line }, 'read-only command done');
        return;
      }
      await audit({ ...base, action, outcome: 'ok', detail: line });
    } catch (err) {
      if (err instanceof LineError) {
        await refuse(err.message);
        return;
      }
      const code = err instanceof CodedError ? err.code : 'E_INTERNAL';
      log.error({ err, action, origin: message.origin }, 'command failed');
      await audit({ ...base, action, outcome: 'error', detail: code });
      await safeReply(reply, `internal error (${code}), see the logs; the command may not have completed`, true);
    }
  }

  return { handle };
}
