/**
 * The IRC adapter (irc-framework): logs in with SASL PLAIN, joins the configured channels, hands command lines
 * to the router with the sender's services account as identity, bound when the line arrives (IRCv3 account-tag;
 * else the account map kept from extended-join and account-notify; else WHOIS asked at once and matched to the
 * line's nick!user@host; never the nick: see irc-identity.ts), and says what the router and notifier send,
 * through an outbox that is paced under the server's flood limits, confirmed by echo-message, summarised when a
 * backlog builds, and delivered after a reconnect. Its WHOIS are written within the same pace (after urgent
 * lines, before the others) and shared per nick while queued (irc-whois.ts): whatever anyone types, rekick's
 * lines to the server stay within its pace. A job started by a private message has its lines follow the
 * account that started it (irc-follow-account.ts).
 */
import IRC, { type Client, type ClientOptions, type MessageEvent } from 'irc-framework';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema';
import type { Identity, Origin } from '../../model';
import type { ChatAdapter, ChatMessage, MessageHandler, OutgoingMessage } from '../chat-adapter';
import { AccountTracker, trackAccounts } from './accounts';
import { caseFold } from './casefold';
import { FollowAccount } from './follow-account';
import { bindLine } from './identity';
import { commandFromLine, outboxKind, progressState } from './message';
import { IrcOutbox, type OutboxLine } from './outbox';
import { ircLines } from './text';
import { WhoisRequests, type WhoisCounters } from './whois';
import { LinePacer } from './line-pacer';

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

const UNCONFIRMED_EXPIRY_MS = 30_000;
const isChannel = (name: string) => /^[#&]/.test(name);

export function createIrcAdapter(options: IrcAdapterOptions): IrcAdapter {
  const { config, log } = options;
  const now = options.now ?? (() => Date.now());
  const createClient = options.createClient ?? (() => new IRC.Client() as IrcClientLike);
  const window = options.window ?? 4;
  const minBackoff = options.reconnect?.minMs ?? 1000;
  const maxBackoff = options.reconnect?.maxMs ?? 60_000;
  const pacer = new LinePacer({ burst: options.pace?.burst ?? 4, perSecond: options.pace?.perSecond ?? 1, now });
  let currentNick = config.nick;
  const outbox = new IrcOutbox({
    threshold: options.backlogThreshold ?? 40,
    split: (text, target) => ircLines(text, currentNick, target),
    maxRepliesPerTarget: options.outboxLimits?.repliesPerTarget,
    maxReplies: options.outboxLimits?.replies,
    maxUrgent: options.outboxLimits?.urgent,
  });

  let client: IrcClientLike | undefined;
  /** The connection's account map and WHOIS requests (new with each connection). */
  let tracker: AccountTracker | undefined;
  let whois: WhoisRequests | undefined;
  let generation = 0;
  let onMessage: MessageHandler | undefined;
  let registered = false;
  let ready = false;
  let stopped = false;
  let echo = false;
  let attempts = 0;
  const joined = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let pumpTimer: NodeJS.Timeout | undefined;
  let readyWaiters: Array<() => void> = [];
  let handling: Promise<void> = Promise.resolve();
  const stats: IrcStats = { registrations: 0, disconnects: 0, failedAttempts: 0, delivered: 0, summarised: 0, dropped: 0, queued: 0, privateDropped: 0, whoisSent: 0, whoisTimedOutUnsent: 0, whoisQueueFull: 0 };
  const whoisCounters: WhoisCounters = { sent: 0, timedOutUnsent: 0, queueFull: 0 };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const setReady = () => {
    if (ready || !registered) return;
    ready = true;
    log.info({ channels: config.channels, nick: currentNick }, 'IRC ready');
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const w of waiters) w();
    pump();
  };

  /**
   * Writes what waits, within the pace: urgent lines first, then WHOIS (a line's binding waits for it), then the
   * other lines. WHOIS go once registered; rekick's own lines once ready.
   */
  function pump(): void {
    if (pumpTimer) {
      clearTimeout(pumpTimer);
      timers.delete(pumpTimer);
      pumpTimer = undefined;
    }
    if (!registered || !client) return;
    if (ready) {
      for (const line of outbox.expire(now(), UNCONFIRMED_EXPIRY_MS)) {
        log.warn({ target: line.target }, 'IRC server did not echo a line within 30s; counted as sent (is rekick allowed to speak there?)');
      }
    }
    for (;;) {
      const lines = ready && outbox.waiting > 0 && outbox.unconfirmed < window;
      const asks = whois?.sendable() ?? false;
      if (!lines && !asks) break;
      if (!pacer.tryTake()) {
        pumpTimer = later(Math.max(pacer.waitMs(), 10), pump);
        return;
      }
      if (asks && !(lines && outbox.urgentWaiting > 0)) {
        whois!.sendNext();
        continue;
      }
      const line = outbox.take(now())!;
      client.raw(`PRIVMSG ${line.target} :${line.text}`);
      if (!echo) {
        outbox.confirmWritten(line);
        stats.delivered += 1;
      }
    }
    // Waiting for echoes: look again when an unconfirmed line would expire.
    if (outbox.unconfirmed > 0) pumpTimer = later(UNCONFIRMED_EXPIRY_MS + 100, pump);
  }

  /** Puts a message's lines for `room` in the outbox. */
  function enqueue(room: string, message: OutgoingMessage): void {
    const texts = ircLines(message.text, currentNick, room);
    if (!texts.length) return;
    const progress = texts.length === 1 ? progressState(message) : undefined;
    const how = outboxKind(message);
    const lines: OutboxLine[] = texts.map((text) => ({
      target: room,
      text,
      progress,
      ...(how.kind === 'urgent' ? { urgent: true, host: how.host, state: how.state } : how.kind === 'reply' ? { reply: true } : {}),
    }));
    outbox.push(lines);
    stats.summarised = outbox.summarised;
    pump();
  }

  /** The nick that holds `account` now (preferring `nick`): the account map, else a WHOIS of `nick`. */
  async function holderOf(account: string, nick: string): Promise<string | undefined> {
    if (!ready && !stopped) await new Promise<void>((r) => readyWaiters.push(r));
    if (stopped || !tracker || !whois) return undefined;
    const known = tracker.holderOf(account, nick);
    if (known === 'none') return undefined;
    if (known !== 'unknown') return known.nick;
    const outcome = await whois.ask(nick);
    if (outcome.kind === 'answer' && outcome.account?.toLowerCase() === account.toLowerCase()) return outcome.nick;
    return undefined;
  }

  const follow = new FollowAccount({ resolve: holderOf, deliver: enqueue, dropped: (n) => (stats.privateDropped += n), log });

  function onPrivmsg(c: IrcClientLike, event: MessageEvent): void {
    if (event.nick && event.nick.toLowerCase() === currentNick.toLowerCase()) {
      // echo-message: the server has taken our line.
      if (outbox.confirm(event.target, event.message)) {
        stats.delivered += 1;
        pump();
      }
      return;
    }
    const isPrivate = !isChannel(event.target);
    // Addressed by the configured nick or the one in use (`rekick_` while `rekick` is taken).
    const text = commandFromLine(event.message, currentNick, isPrivate) ?? commandFromLine(event.message, config.nick, isPrivate);
    if (text === undefined || !onMessage) return;
    const handler = onMessage;
    // When the line arrived, before its binding's WHOIS: `!approve all` counts only what was announced by then.
    const receivedAt = new Date(now());
    // Bound now, as the line arrives (a WHOIS goes out at once); handled in arrival order.
    const binding = tracker && whois
      ? bindLine({ accountTag: () => c.network.cap.isEnabled('account-tag'), tracker, whois, log }, event)
      : { unconfirmed: 'rekick was not connected' };
    handling = handling.then(async () => {
      try {
        const bound = await binding;
        const user: Identity = { source: 'irc', id: bound.account, display: event.nick };
        if (bound.unconfirmed) user.unconfirmed = bound.unconfirmed;
        const origin: Origin = isPrivate ? { adapter: 'irc', room: event.nick, private: true } : { adapter: 'irc', room: event.target };
        if (isPrivate && bound.account) origin.account = bound.account;
        const message: ChatMessage = { origin, user, text, receivedAt };
        await handler(message);
      } catch (err) {
        log.error({ err, nick: event.nick }, 'handling an IRC line failed');
      }
    });
  }

  function scheduleReconnect(): void {
    if (stopped) return;
    const base = Math.min(maxBackoff, minBackoff * 2 ** Math.min(attempts, 16));
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    attempts += 1;
    log.info({ waitMs: wait, attempt: attempts }, 'IRC reconnecting');
    later(wait, connect);
  }

  function connect(): void {
    if (stopped) return;
    const gen = ++generation;
    const c = createClient();
    client = c;
    registered = false;
    ready = false;
    echo = false;
    joined.clear();
    whois?.close();
    const fold = () => caseFold(c.network.options.CASEMAPPING);
    const connTracker = new AccountTracker(() => currentNick, fold, () => c.network.cap.isEnabled('account-notify'));
    const connWhois = new WhoisRequests(c, {
      timeoutMs: options.whoisTimeoutMs ?? 5000,
      fold,
      // Written by the pump, within the pace (the same budget as rekick's own lines).
      wake: () => {
        if (gen === generation) pump();
      },
      maxQueued: options.whoisLimits?.queuedNicks,
      maxInFlight: options.whoisLimits?.inFlight,
      counters: whoisCounters,
    });
    tracker = connTracker;
    whois = connWhois;
    const mine = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
      if (gen === generation) fn(...args);
    };

    c.on('registered', mine((event: { nick: string }) => {
      registered = true;
      attempts = 0;
      stats.registrations += 1;
      currentNick = event.nick || currentNick;
      echo = c.network.cap.isEnabled('echo-message');
      pacer.reset();
      log.info({ nick: currentNick, echo, accountTag: c.network.cap.isEnabled('account-tag') }, 'IRC registered');
      // A nick held by our own ghost (after a ping timeout or a netsplit) frees up later: take it back.
      const regain = () => {
        if (currentNick.toLowerCase() !== config.nick.toLowerCase()) c.raw(`NICK ${config.nick}`);
        later(60_000, mine(regain));
      };
      later(60_000, mine(regain));
      if (!config.channels.length) setReady();
      for (const channel of config.channels) c.join(channel);
      // A channel that cannot be joined must not hold every other line back.
      later(5000, mine(() => setReady()));
    }));
    c.on('join', mine((event: { nick: string; channel: string }) => {
      if (event.nick.toLowerCase() !== currentNick.toLowerCase()) return;
      joined.add(event.channel.toLowerCase());
      if (config.channels.every((ch) => joined.has(ch.toLowerCase()))) setReady();
    }));
    c.on('nick', mine((event: { nick: string; new_nick: string }) => {
      if (event.nick.toLowerCase() !== currentNick.toLowerCase()) return;
      log.info({ from: currentNick, to: event.new_nick }, 'IRC nick changed');
      currentNick = event.new_nick;
    }));
    c.on('kick', mine((event: { kicked: string; channel: string }) => {
      if (event.kicked.toLowerCase() !== currentNick.toLowerCase()) return;
      joined.delete(event.channel.toLowerCase());
      log.warn({ channel: event.channel }, 'kicked from an IRC channel; rejoining in 5s');
      later(5000, mine(() => c.join(event.channel)));
    }));
    c.on('privmsg', mine((event: MessageEvent) => onPrivmsg(c, event)));
    // The account map: what the server tells of the users who share a channel with rekick, in order.
    trackAccounts(c, connTracker, () => c.network.cap.isEnabled('extended-join'));
    c.on('loggedin', mine((event: { account: string }) => log.info({ account: event.account }, 'IRC SASL login done')));
    c.on('sasl failed', mine((event: { reason?: string }) => {
      log.error({ reason: event.reason }, 'IRC SASL login failed: check irc.sasl.account and irc.sasl.password (rekick goes on without its account)');
    }));
    c.on('nick in use', mine(() => {
      if (registered) return;
      currentNick = `${currentNick.slice(0, 29)}_`;
      log.warn({ nick: currentNick }, 'IRC nick in use; trying another');
      c.raw(`NICK ${currentNick}`);
    }));
    c.on('irc error', mine((event: { error?: string; reason?: string; nick?: string }) => {
      // A WHOIS of (or a line to) a nick that has left: an answer, not a fault of the connection.
      if (event.error === 'no_such_nick') {
        log.debug({ nick: event.nick }, 'IRC: no such nick');
        return;
      }
      stats.lastError = event.reason ?? event.error;
      log.warn({ error: event.error, reason: event.reason }, 'IRC server error');
    }));
    // irc-framework passes the socket's error (refused, TLS certificate, reset) along with 'socket close'.
    c.on('socket close', mine((err?: Error | false) => {
      if (!err) return;
      stats.lastError = err.message ?? String(err);
      log.warn({ err: stats.lastError, host: config.host, port: config.port, tls: config.tls }, 'IRC socket error (server down? wrong port? TLS certificate not trusted?)');
    }));
    c.on('close', mine(() => {
      const wasReady = ready;
      const wasRegistered = registered;
      registered = false;
      ready = false;
      client = undefined;
      connWhois.close();
      outbox.requeue();
      c.removeAllListeners();
      if (stopped) return;
      if (wasRegistered) {
        stats.disconnects += 1;
        log.warn({ wasReady, queued: outbox.all().length, lastError: stats.lastError }, 'IRC connection lost');
      } else {
        stats.failedAttempts += 1;
        log.warn({ attempt: attempts, lastError: stats.lastError }, 'IRC connection attempt failed');
      }
      scheduleReconnect();
    }));

    const clientOptions: ClientOptions = {
      host: config.host,
      port: config.port,
      nick: currentNick,
      username: config.nick.replace(/[^A-Za-z0-9]/g, '').slice(0, 9) || 'rekick',
      gecos: 'rekick, reinstalls Koji builders',
      tls: config.tls,
      rejectUnauthorized: config.rejectUnauthorized,
      account: config.sasl ? { account: config.sasl.account, password: config.sasl.password } : undefined,
      auto_reconnect: false,
      enable_echomessage: true,
      ping_interval: 30,
      ping_timeout: 90,
      version: null,
    };
    log.info({ host: config.host, port: config.port, tls: config.tls, sasl: Boolean(config.sasl) }, 'IRC connecting');
    c.connect(clientOptions);
  }

  return {
    name: 'irc',
    // Lists longer than this are summarised in a channel (paged in a private message): 1 line a second.
    replyLines: { room: 10, private: 15 },
    async start(handler: MessageHandler) {
      onMessage = handler;
      stopped = false;
      const first = new Promise<void>((resolve) => {
        readyWaiters.push(resolve);
        later(options.startTimeoutMs ?? 15_000, () => {
          if (!ready) log.warn('IRC not ready yet; rekick goes on and keeps trying');
          resolve();
        });
      });
      connect();
      await first;
    },
    async stop(reason?: string) {
      const deadline = now() + (options.drainOnStopMs ?? 5000);
      // Private lines waiting to learn which nick holds their account, then the outbox.
      if (ready) await Promise.race([follow.settled(), new Promise((r) => setTimeout(r, Math.max(0, deadline - now())).unref())]);
      while (ready && outbox.all().length > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 50));
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const c = client;
      ready = false;
      for (const w of readyWaiters.splice(0)) w();
      whois?.close();
      if (c?.connected) {
        const closed = new Promise<void>((resolve) => {
          c.on('close', () => resolve());
          setTimeout(resolve, 2000).unref();
        });
        c.quit(reason ?? 'rekick stopping');
        await closed;
      }
      await handling;
      if (outbox.all().length) log.warn({ lines: outbox.all().length }, 'IRC stopped with lines not delivered');
    },
    async send(target: Origin, message: OutgoingMessage) {
      // A job started by a private message: its lines go to whoever holds the account, not the nick (a reply
      // answers a line that just came from the nick, bound as it arrived: it goes to the nick).
      if (target.private && target.account && message.kind !== 'reply') {
        follow.send(target.account, target.room, message);
        return;
      }
      enqueue(target.room, message);
    },
    noticeRooms() {
      return config.channels.map((room) => ({ adapter: 'irc', room }));
    },
    isReady() {
      return ready && Boolean(client?.connected);
    },
    stats() {
      return {
        ...stats,
        summarised: outbox.summarised,
        dropped: outbox.dropped,
        queued: outbox.all().length,
        whoisSent: whoisCounters.sent,
        whoisTimedOutUnsent: whoisCounters.timedOutUnsent,
        whoisQueueFull: whoisCounters.queueFull,
      };
    },
    nick() {
      return currentNick;
    },
  };
}
