/** The IRC adapter's public shapes: its config, options, counters and the client it drives. */
import type { Client } from 'irc-framework';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema';
import type { ChatAdapter } from '../chat-adapter';

export type IrcConfig = NonNullable<Config['irc']>;

/** What the adapter needs of an irc-framework client (tests pass a fake). */
export type IrcClientLike = Pick<Client, 'connect' | 'on' | 'removeListener' | 'removeAllListeners' | 'raw' | 'join' | 'quit' | 'network' | 'user' | 'connected'>;

export interface IrcAdapterOptions {
  config: IrcConfig;
  log: Logger;
  /** A new client for each connection (default: irc-framework's Client). */
  createClient?: () => IrcClientLike;
  /** Lines at once, then lines a second (default 4, then 1/s: under inspircd's default class). */
  pace?: { burst?: number; perSecond?: number };
  /** Lines written and not yet echoed back at most (default 4): never more than that in the server's queue. */
  window?: number;
  /**
   * Waiting lines above which progress lines are summarised (default 40: one job's whole run, ~22 lines, is
   * never summarised; many hosts at once are).
   */
  backlogThreshold?: number;
  /** Waiting lines at most: replies per target (default 30) and in total (default 120); urgent lines (default 2000). */
  outboxLimits?: { repliesPerTarget?: number; replies?: number; urgent?: number };
  /** Reconnect backoff (default 1 s doubling to 60 s). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** How long start() waits for the first login and joins before resolving anyway (default 15 s). */
  startTimeoutMs?: number;
  /** How long stop() lets the outbox drain before QUIT (default 5 s). */
  drainOnStopMs?: number;
  /** How long a WHOIS for an account may take (default 5 s); a line whose WHOIS does not answer in time is unbound. */
  whoisTimeoutMs?: number;
  /** Nicks that may wait for their WHOIS to be written (default 10), WHOIS written and unanswered (default 10). */
  whoisLimits?: { queuedNicks?: number; inFlight?: number };
  now?: () => number;
}

export interface IrcStats {
  /** Successful registrations (1 + reconnects). */
  registrations: number;
  /** Logged-in connections lost without rekick asking. */
  disconnects: number;
  /** Connection attempts that ended before login (server down, refused). */
  failedAttempts: number;
  /** Lines confirmed delivered. */
  delivered: number;
  /** Progress lines folded into summaries. */
  summarised: number;
  /** Lines dropped because too many were waiting (replies past their cap; notices past theirs). */
  dropped: number;
  /** Lines waiting or unconfirmed. */
  queued: number;
  /** Lines of jobs started by a private message dropped because no nick held the job's account any more. */
  privateDropped: number;
  /** WHOIS written to the server (paced with rekick's own lines). */
  whoisSent: number;
  /** Lines whose WHOIS could not be written before their WHOIS timeout (the pace was taken): unconfirmed. */
  whoisTimedOutUnsent: number;
  /** Lines unconfirmed at once because too many nicks were waiting for a WHOIS (a flood). */
  whoisQueueFull: number;
  /** Last reason the server gave for closing (e.g. "Excess Flood"), if any. */
  lastError?: string;
}

export interface IrcAdapter extends ChatAdapter {
  stats(): IrcStats;
  /** The nick in use (it may differ from the configured one when that was taken). */
  nick(): string;
}
