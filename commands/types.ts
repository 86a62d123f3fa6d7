/**
 * What a chat command is: its name and usage, the role it needs, a parser of its words (syntax only, refusing with
 * UserError) and a run function that asks the executor. One CommandSpec per file in commands/; the router does
 * tokenizing, role checks, refusals and audit, so a command only says what it means.
 */
import type { Logger } from 'pino';
import type { ChatMessage } from '../src/chat/chat-adapter';
import type { ListRoom } from '../src/chat/long-reply';
import type { Roles } from '../src/chat/roles';
import type { ExecutorApi, RequestContext } from '../src/executor/types';

export type Role = 'anyone' | 'operator' | 'approver';

/** What a command's parser returns: the command's own typed arguments. */
export type ParsedArgs = object;

/** What rekick knows of a host's state in Koji (e.g. KojiHostStates.get). */
export interface HostKojiInfo {
  enabled: boolean;
  comment: string | null;
  at?: string;
}
export type HostsInfo = (host: string) => HostKojiInfo | undefined;

export interface RollingStartOptions extends RequestContext {
  /** Share of the fleet (or group) in flight at once; the config's rolling.fraction when absent. */
  fraction?: number;
  group?: string;
  continuous: boolean;
}

/**
 * The rolling scheduler as commands see it (implemented elsewhere). Each method refuses with UserError; a string
 * it returns is replied to the operator as is (lines separated by \n).
 */
export interface RollingApi {
  start(options: RollingStartOptions): Promise<string | void>;
  pause(ctx: RequestContext): Promise<string | void>;
  resume(ctx: RequestContext): Promise<string | void>;
  stop(ctx: RequestContext): Promise<string | void>;
  /** The run's state, one line each; an empty list when there is no run. */
  status(): string[];
}

export interface CommandContext<A extends ParsedArgs = ParsedArgs> {
  message: ChatMessage;
  args: A;
  executor: ExecutorApi;
  /** Who asked and where, as the executor wants it. */
  request: RequestContext;
  /** Sends text to where the command came from (several lines: separated by \n). */
  reply(text: string): Promise<void>;
  log: Logger;
  roles: Roles;
  /** Every command (for !help). */
  commands: readonly CommandSpec[];
  rolling?: RollingApi;
  hostsInfo?: HostsInfo;
  /** The clock, for "waited 12m" (tests pin it). */
  now(): Date;
  /**
   * Whether the job's ready line had been handed to a chat by `at` (the line's `receivedAt`): `!approve all`
   * approves only those. Absent (no notifier): every waiting job counts as seen.
   */
  seenBefore?(jobId: string, at: Date): boolean;
  /** How long a list may be where the reply goes (lists that grow with the fleet); default: 10 lines, a channel. */
  listRoom?: ListRoom;
}

export interface CommandSpec<A extends ParsedArgs = ParsedArgs> {
  name: string;
  aliases?: string[];
  /** One line, without the leading `!`: `reinstall HOST... | group:NAME [--force-drain] [--reason TEXT]`. */
  usage: string;
  summary: string;
  role: Role;
  /** When the role depends on the words (`!rolling status` is for anyone): the role for these words. */
  roleFor?(args: string[]): Role;
  /** Checks the words; throws UserError saying what is wrong (the router adds the usage). */
  parse(args: string[]): A;
  run(ctx: CommandContext<A>): Promise<void>;
}

/** Helper so each file can declare a typed spec and the list can hold them all. */
export function defineCommand<A extends ParsedArgs>(spec: CommandSpec<A>): CommandSpec {
  return spec as unknown as CommandSpec;
}
