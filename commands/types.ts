/**
 * What a chat command is: its name and usage, the role it needs, a parser of its words (syntax only, refusing with
 * UserError) and a run function that asks the executor. One CommandSpec per file in commands/; the router does
 * tokenizing, role checks, refusals and audit, so a command only says what it means.
 */
import type { Logger } from 'pino';
import type { ExecutorApi, RequestContext } from '../src/executor/types';
import type { Identity, Origin } from '../src/model';
import type { ListRoom } from '../src/present/list-reply';
import type { RollingApi } from '../src/rolling/types';

export type { RollingApi, RollingStartOptions } from '../src/rolling/types';

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

/** The line a command came from, as commands read it (a chat adapter's message is one). */
export interface CommandMessage {
  origin: Origin;
  user: Identity;
  text: string;
  /** A click on a button (Slack Approve/Deny): the job its message was posted for; no jobId on an old button. */
  button?: { jobId?: string };
  /** A click rather than a typed line (a refusal goes back privately to the clicker). */
  interactive?: boolean;
  /** When the line reached rekick: `!approve all` approves only jobs whose ready line a chat had by then. */
  receivedAt?: Date;
}

/** Who holds which role, as !whoami asks it (the chat's roles, from the config). */
export interface RoleLookup {
  /** The identity as written in the config (`irc:kevin`), or undefined when the user has none. */
  key(user: Identity): string | undefined;
  /** The roles held, strongest last: [], ['operator'] or ['operator', 'approver']. */
  rolesOf(user: Identity): Array<'operator' | 'approver'>;
}

export interface CommandContext<A extends ParsedArgs = ParsedArgs> {
  message: CommandMessage;
  args: A;
  executor: ExecutorApi;
  /** Who asked and where, as the executor wants it. */
  request: RequestContext;
  /** Sends text to where the command came from (several lines: separated by \n). */
  reply(text: string): Promise<void>;
  log: Logger;
  roles: RoleLookup;
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
