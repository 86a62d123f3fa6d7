/**
 * What one IRC adapter holds while it runs: the connection of the moment (client, account map, WHOIS), where
 * login and joins stand, the outbox and its pace, timers and counters. The connection, pump and incoming-line
 * modules work on it; the adapter creates it.
 */
import type { Logger } from 'pino';
import type { MessageHandler } from '../chat-adapter';
import type { AccountTracker } from './accounts';
import { LinePacer } from './line-pacer';
import { IrcOutbox } from './outbox';
import { ircLines } from './text';
import type { IrcAdapterOptions, IrcClientLike, IrcConfig, IrcStats } from './types';
import type { WhoisCounters, WhoisRequests } from './whois';

export interface IrcState {
  readonly options: IrcAdapterOptions;
  readonly config: IrcConfig;
  readonly log: Logger;
  readonly now: () => number;
  readonly outbox: IrcOutbox;
  readonly pacer: LinePacer;
  /** Lines written and not yet echoed back at most. */
  readonly window: number;
  /** The nick in use (it may differ from the configured one when that was taken). */
  currentNick: string;
  client?: IrcClientLike;
  /** The connection's account map and WHOIS requests (new with each connection). */
  tracker?: AccountTracker;
  whois?: WhoisRequests;
  /** Counts connections: handlers of an older one do nothing. */
  generation: number;
  onMessage?: MessageHandler;
  registered: boolean;
  ready: boolean;
  stopped: boolean;
  /** Whether the server echoes our lines (echo-message): a line is delivered when it comes back. */
  echo: boolean;
  /** Connection attempts since the last login (the reconnect backoff). */
  attempts: number;
  readonly joined: Set<string>;
  readonly timers: Set<NodeJS.Timeout>;
  pumpTimer?: NodeJS.Timeout;
  readyWaiters: Array<() => void>;
  /** Incoming lines, handled one after another in arrival order. */
  handling: Promise<void>;
  readonly stats: IrcStats;
  readonly whoisCounters: WhoisCounters;
}

export function createIrcState(options: IrcAdapterOptions): IrcState {
  const now = options.now ?? (() => Date.now());
  const state: IrcState = {
    options,
    config: options.config,
    log: options.log,
    now,
    pacer: new LinePacer({ burst: options.pace?.burst ?? 4, perSecond: options.pace?.perSecond ?? 1, now }),
    outbox: new IrcOutbox({
      threshold: options.backlogThreshold ?? 40,
      split: (text, target) => ircLines(text, state.currentNick, target),
      maxRepliesPerTarget: options.outboxLimits?.repliesPerTarget,
      maxReplies: options.outboxLimits?.replies,
      maxUrgent: options.outboxLimits?.urgent,
    }),
    window: options.window ?? 4,
    currentNick: options.config.nick,
    generation: 0,
    registered: false,
    ready: false,
    stopped: false,
    echo: false,
    attempts: 0,
    joined: new Set(),
    timers: new Set(),
    readyWaiters: [],
    handling: Promise.resolve(),
    stats: { registrations: 0, disconnects: 0, failedAttempts: 0, delivered: 0, summarised: 0, dropped: 0, queued: 0, privateDropped: 0, whoisSent: 0, whoisTimedOutUnsent: 0, whoisQueueFull: 0 },
    whoisCounters: { sent: 0, timedOutUnsent: 0, queueFull: 0 },
  };
  return state;
}

/** Runs `fn` after `ms`, unless the adapter stops first (stop clears every timer). */
export function later(state: IrcState, ms: number, fn: () => void): NodeJS.Timeout {
  const t = setTimeout(() => {
    state.timers.delete(t);
    fn();
  }, ms);
  state.timers.add(t);
  return t;
}
