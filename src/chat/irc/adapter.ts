/**
 * The IRC adapter (irc-framework): logs in with SASL PLAIN, joins the configured channels, hands command lines
 * to the router with the sender's services account as identity, bound when the line arrives (IRCv3 account-tag;
 * else the account map kept from extended-join and account-notify; else WHOIS asked at once and matched to the
 * line's nick!user@host; never the nick: see identity.ts), and says what the router and notifier send, through
 * an outbox that is paced under the server's flood limits, confirmed by echo-message, summarised when a backlog
 * builds, and delivered after a reconnect (pump.ts). Its WHOIS are written within the same pace (after urgent
 * lines, before the others) and shared per nick while queued (whois.ts). A job started by a private message has
 * its lines follow the account that started it (follow-account.ts). The connection is connection.ts.
 */
import type { Origin } from '../../model';
import type { MessageHandler, OutgoingMessage } from '../chat-adapter';
import { connect } from './connection';
import { FollowAccount } from './follow-account';
import { enqueue } from './pump';
import { createIrcState, later, type IrcState } from './state';
import type { IrcAdapter, IrcAdapterOptions, IrcStats } from './types';

export type { IrcAdapter, IrcAdapterOptions, IrcClientLike, IrcConfig, IrcStats } from './types';

export function createIrcAdapter(options: IrcAdapterOptions): IrcAdapter {
  const state = createIrcState(options);
  const follow = new FollowAccount({
    resolve: (account, nick) => holderOf(state, account, nick),
    deliver: (room, message) => enqueue(state, room, message),
    dropped: (n) => (state.stats.privateDropped += n),
    log: options.log,
  });
  return {
    name: 'irc',
    // Lists longer than this are summarised in a channel (paged in a private message): 1 line a second.
    replyLines: { room: 10, private: 15 },
    start: (handler) => start(state, handler),
    stop: (reason) => stop(state, follow, reason),
    async send(target: Origin, message: OutgoingMessage) {
      // A job started by a private message: its lines go to whoever holds the account, not the nick (a reply
      // answers a line that just came from the nick, bound as it arrived: it goes to the nick).
      if (target.private && target.account && message.kind !== 'reply') {
        follow.send(target.account, target.room, message);
        return;
      }
      enqueue(state, target.room, message);
    },
    noticeRooms() {
      return state.config.channels.map((room) => ({ adapter: 'irc', room }));
    },
    isReady() {
      return state.ready && Boolean(state.client?.connected);
    },
    stats: () => statsOf(state),
    nick() {
      return state.currentNick;
    },
  };
}

/** Connects; resolves once logged in and joined, or after the start timeout (it goes on trying). */
async function start(state: IrcState, handler: MessageHandler): Promise<void> {
  state.onMessage = handler;
  state.stopped = false;
  const first = new Promise<void>((resolve) => {
    state.readyWaiters.push(resolve);
    later(state, state.options.startTimeoutMs ?? 15_000, () => {
      if (!state.ready) state.log.warn('IRC not ready yet; rekick goes on and keeps trying');
      resolve();
    });
  });
  connect(state);
  await first;
}

/** Lets the outbox drain (within drainOnStopMs), then QUITs and waits for the lines being handled. */
async function stop(state: IrcState, follow: FollowAccount, reason?: string): Promise<void> {
  const { now, outbox, log } = state;
  const deadline = now() + (state.options.drainOnStopMs ?? 5000);
  // Private lines waiting to learn which nick holds their account, then the outbox.
  if (state.ready) await Promise.race([follow.settled(), new Promise((r) => setTimeout(r, Math.max(0, deadline - now())).unref())]);
  while (state.ready && outbox.all().length > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  state.stopped = true;
  for (const t of state.timers) clearTimeout(t);
  state.timers.clear();
  const c = state.client;
  state.ready = false;
  for (const w of state.readyWaiters.splice(0)) w();
  state.whois?.close();
  if (c?.connected) {
    const closed = new Promise<void>((resolve) => {
      c.on('close', () => resolve());
      setTimeout(resolve, 2000).unref();
    });
    c.quit(reason ?? 'rekick stopping');
    await closed;
  }
  await state.handling;
  if (outbox.all().length) log.warn({ lines: outbox.all().length }, 'IRC stopped with lines not delivered');
}

/** The nick that holds `account` now (preferring `nick`): the account map, else a WHOIS of `nick`. */
async function holderOf(state: IrcState, account: string, nick: string): Promise<string | undefined> {
  if (!state.ready && !state.stopped) await new Promise<void>((r) => state.readyWaiters.push(r));
  const { tracker, whois } = state;
  if (state.stopped || !tracker || !whois) return undefined;
  const known = tracker.holderOf(account, nick);
  if (known === 'none') return undefined;
  if (known !== 'unknown') return known.nick;
  const outcome = await whois.ask(nick);
  if (outcome.kind === 'answer' && outcome.account?.toLowerCase() === account.toLowerCase()) return outcome.nick;
  return undefined;
}

function statsOf(state: IrcState): IrcStats {
  const { stats, outbox, whoisCounters } = state;
  return {
    ...stats,
    summarised: outbox.summarised,
    dropped: outbox.dropped,
    queued: outbox.all().length,
    whoisSent: whoisCounters.sent,
    whoisTimedOutUnsent: whoisCounters.timedOutUnsent,
    whoisQueueFull: whoisCounters.queueFull,
  };
}
