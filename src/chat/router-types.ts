/** The router's shapes: its options (the command registry injected), what it offers, and how it replies. */
import type { Logger } from 'pino';
import type { CommandSpec, HostsInfo, RollingApi } from '../../commands/types';
import type { ExecutorApi } from '../executor/types';
import type { AuditEntry } from '../model';
import type { ChatAdapter, ChatMessage } from './chat-adapter';
import type { RateLimitConfig } from './rate-limit';
import type { Roles } from './roles';

export type Reply = (text: string, options?: { refusal?: boolean }) => Promise<void>;

/** The chat commands as the router uses them (built beside the commands, handed in by the composition). */
export interface CommandRegistry {
  /** Every command, in the order !help lists them. */
  readonly all: readonly CommandSpec[];
  /** The command called `name` (or with that alias), any case. */
  find(name: string): CommandSpec | undefined;
  /** A command's usage line, as a refusal ends with it. */
  usage(spec: CommandSpec): string;
  /** ` — did you mean !x?` for a command name close to `typed`, else ''. */
  suggest(typed: string): string;
}

export interface RouterOptions {
  executor: ExecutorApi;
  commands: CommandRegistry;
  roles: Roles;
  log: Logger;
  /** Records an audit entry (e.g. the executor's audit); its failures are logged, never shown. */
  audit(entry: AuditEntry): void | Promise<void>;
  /** Where replies go when `handle` is given no reply function: the adapter named in the message's origin. */
  adapters?: readonly ChatAdapter[];
  rolling?: RollingApi;
  hostsInfo?: HostsInfo;
  /** The bot's name, as long replies name it (default `rekick`). */
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
  /** Handles one command line an adapter addressed to rekick; resolves when done. Never rejects. */
  handle(message: ChatMessage, reply?: Reply): Promise<void>;
}
