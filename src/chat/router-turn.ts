/**
 * One command line through the router: the rate limit, then the words, the command, the role, the parse and
 * the run. Every refusal is one line that says why and changes nothing; nothing here throws. Every command that
 * may change something, and every refusal, is audited (the audit callback sorts them: src/audit/audit-kind.ts);
 * a command anyone may run only reads, and its success is not audited (a debug log line). Lines over a sender's
 * rate limit are not audited either: the first gets one notice, the rest silence; they are counted.
 */
import type { CommandContext, CommandSpec } from '../../commands/types';
import { CodedError, UserError } from '../errors';
import type { AuditEntry } from '../model';
import type { ChatMessage } from './chat-adapter';
import { listRoomFor } from './long-reply';
import { CommandRateLimit, RATE_LIMITED, rateLimitNotice } from './rate-limit';
import { cleanLine, commandOf, LineError, tokenize } from './router-line';
import type { Reply, RouterOptions } from './router-types';

/** What every line's handling shares: the options, the bot's name, the clock and the rate limit. */
export interface RouterDeps {
  options: RouterOptions;
  nick: string;
  now: () => Date;
  rateLimit?: CommandRateLimit;
}

/** One line being handled: who sent it, where the answer goes, and the action it is audited as so far. */
interface Turn {
  deps: RouterDeps;
  message: ChatMessage;
  reply: Reply;
  action: string;
}

export function routerDeps(options: RouterOptions): RouterDeps {
  const now = options.now ?? (() => new Date());
  const rateLimit = options.rateLimit && new CommandRateLimit(options.rateLimit, options.roles, { now: () => now().getTime() });
  return { options, nick: options.nick ?? 'rekick', now, rateLimit };
}

/** Handles one line; never rejects. */
export async function handleLine(deps: RouterDeps, message: ChatMessage, reply: Reply): Promise<void> {
  const turn: Turn = { deps, message, reply, action: 'chat' };
  try {
    // Every line meant for rekick counts against its sender's rate limit, refused or not.
    if (await rateLimited(turn)) return;
    await runLine(turn);
  } catch (err) {
    await failed(turn, err);
  }
}

/** Whether the sender is over the rate limit (the first such line gets one notice, the rest silence). */
async function rateLimited(turn: Turn): Promise<boolean> {
  const { message, deps } = turn;
  const rate = deps.rateLimit?.check(message);
  if (!rate || rate.allowed) return false;
  deps.options.onRateLimited?.(message.origin.adapter);
  if (rate.notify) {
    deps.options.log.warn({ who: rate.key, origin: message.origin, code: RATE_LIMITED, waitMs: rate.waitMs }, 'chat commands rate-limited');
    await safeReply(turn, rateLimitNotice(message.user.display || rate.key || message.user.source, rate), true);
  }
  return true;
}

/** Words -> command -> role -> parse -> run -> audit. */
async function runLine(turn: Turn): Promise<void> {
  const { options } = turn.deps;
  const text = commandOf(cleanLine(turn.message.text));
  const words = tokenize(text);
  const name = words[0];
  // `!`, `!!!` or `! 1`: not a command, not worth a refusal. A word starting with any letter is meant as a
  // command (`!ｄeny`, `!геinstall` typed with another keyboard layout): it gets its refusal, not silence.
  if (!name || !/^[\p{L}\p{Nl}]/u.test(name)) return;
  const spec = options.commands.find(name);
  const line = text.slice(0, 200);
  if (!spec) {
    await refuse(turn, `unknown command !${name.slice(0, 32)}${options.commands.suggest(name)} (!help lists the commands)`, line);
    return;
  }
  turn.action = `!${spec.name}`;
  const args = words.slice(1);
  const role = spec.roleFor?.(args) ?? spec.role;
  const denied = options.roles.refusal(turn.message.user, role);
  if (denied) {
    await refuse(turn, `!${spec.name} refused: ${denied}`, line);
    return;
  }
  const parsed = await parseArgs(turn, spec, args, line);
  if (!parsed) return;
  if (!(await runCommand(turn, spec, parsed.args, line))) return;
  if (role === 'anyone') {
    options.log.debug({ who: turn.message.user, origin: turn.message.origin, action: turn.action, detail: line }, 'read-only command done');
    return;
  }
  await audit(turn, { outcome: 'ok', detail: line });
}

/** The command's arguments, or undefined when they do not parse (refused with the usage line). */
async function parseArgs(turn: Turn, spec: CommandSpec, args: string[], line: string): Promise<{ args: object } | undefined> {
  try {
    return { args: spec.parse(args) };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    await refuse(turn, `!${spec.name}: ${err.message} — ${turn.deps.options.commands.usage(spec)}`, line);
    return undefined;
  }
}

/** Runs the command; false when it refused (a UserError, shown as is). */
async function runCommand(turn: Turn, spec: CommandSpec, parsed: object, line: string): Promise<boolean> {
  try {
    await spec.run(commandContext(turn, spec, parsed));
    return true;
  } catch (err) {
    if (err instanceof UserError) {
      await refuse(turn, `!${spec.name} refused: ${err.message}`, line);
      return false;
    }
    throw err;
  }
}

function commandContext(turn: Turn, spec: CommandSpec, parsed: object): CommandContext {
  const { message } = turn;
  const { options, now, nick } = turn.deps;
  const { executor, roles, log } = options;
  return {
    message,
    args: parsed,
    executor,
    request: { by: message.user, origin: message.origin },
    reply: (t) => safeReply(turn, t, false),
    log: log.child({ command: spec.name }),
    roles,
    commands: options.commands.all,
    rolling: options.rolling,
    hostsInfo: options.hostsInfo,
    now,
    seenBefore: options.seenBefore,
    listRoom: listRoomFor(message, options.adapters, nick, options.statusUrl?.()),
  };
}

/** A refused line (LineError) or a failure: a refusal, or `internal error` logged and audited. */
async function failed(turn: Turn, err: unknown): Promise<void> {
  if (err instanceof LineError) {
    await refuse(turn, err.message);
    return;
  }
  const code = err instanceof CodedError ? err.code : 'E_INTERNAL';
  turn.deps.options.log.error({ err, action: turn.action, origin: turn.message.origin }, 'command failed');
  await audit(turn, { outcome: 'error', detail: code });
  await safeReply(turn, `internal error (${code}), see the logs; the command may not have completed`, true);
}

async function refuse(turn: Turn, why: string, detail?: string): Promise<void> {
  await audit(turn, { outcome: 'refused', detail: detail ? `${why} [${detail}]` : why });
  await safeReply(turn, why, true);
}

async function audit(turn: Turn, entry: Pick<AuditEntry, 'outcome' | 'detail'>): Promise<void> {
  const { message, action, deps } = turn;
  try {
    await deps.options.audit({ at: deps.now().toISOString(), who: message.user, origin: message.origin, action, ...entry });
  } catch (err) {
    deps.options.log.error({ err, action }, 'audit failed');
  }
}

async function safeReply(turn: Turn, text: string, refusal: boolean): Promise<void> {
  try {
    await turn.reply(text, { refusal });
  } catch (err) {
    turn.deps.options.log.error({ err }, 'reply failed');
  }
}
