/**
 * The IRC connection: one irc-framework client at a time, logged in with SASL PLAIN, joining the configured
 * channels, taking its nick back when it frees up, rejoining after a kick, and reconnecting with backoff when
 * the connection is lost. Handlers of an older connection do nothing (the generation check).
 */
import IRC, { type ClientOptions, type MessageEvent } from 'irc-framework';
import { AccountTracker, trackAccounts } from './accounts';
import { caseFold, sameName } from './casefold';
import { onPrivmsg } from './incoming';
import { pump, setReady } from './pump';
import { later, type IrcState } from './state';
import type { IrcClientLike, IrcConfig } from './types';
import { WhoisRequests } from './whois';

/** Opens a new connection (the old one's account map and WHOIS are closed). */
export function connect(state: IrcState): void {
  if (state.stopped) return;
  const gen = ++state.generation;
  const c = (state.options.createClient ?? (() => new IRC.Client() as IrcClientLike))();
  state.client = c;
  state.registered = false;
  state.ready = false;
  state.echo = false;
  state.joined.clear();
  state.whois?.close();
  const fold = () => caseFold(c.network.options.CASEMAPPING);
  const tracker = new AccountTracker(() => state.currentNick, fold, () => c.network.cap.isEnabled('account-notify'));
  state.tracker = tracker;
  state.whois = new WhoisRequests(c, {
    timeoutMs: state.options.whoisTimeoutMs ?? 5000,
    fold,
    // Written by the pump, within the pace (the same budget as rekick's own lines).
    wake: () => {
      if (gen === state.generation) pump(state);
    },
    maxQueued: state.options.whoisLimits?.queuedNicks,
    maxInFlight: state.options.whoisLimits?.inFlight,
    counters: state.whoisCounters,
  });
  const mine = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
    if (gen === state.generation) fn(...args);
  };
  onRegistration(state, c, mine);
  onChannels(state, c, mine);
  c.on('privmsg', mine((event: MessageEvent) => onPrivmsg(state, c, event)));
  // The account map: what the server tells of the users who share a channel with rekick, in order.
  trackAccounts(c, tracker, () => c.network.cap.isEnabled('extended-join'));
  onErrors(state, c, mine);
  onClose(state, c, state.whois, mine);
  const { config, log } = state;
  log.info({ host: config.host, port: config.port, tls: config.tls, sasl: Boolean(config.sasl) }, 'IRC connecting');
  c.connect(clientOptions(config, state.currentNick));
}

/** Wraps a handler so that it runs only while its connection is the current one. */
type Mine = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void;

export function clientOptions(config: IrcConfig, nick: string): ClientOptions {
  return {
    host: config.host,
    port: config.port,
    nick,
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
}

/** Login: registered (join, regain the nick), SASL outcome, a nick in use before registration. */
function onRegistration(state: IrcState, c: IrcClientLike, mine: Mine): void {
  const { config, log, stats } = state;
  c.on('registered', mine((event: { nick: string }) => {
    state.registered = true;
    state.attempts = 0;
    stats.registrations += 1;
    state.currentNick = event.nick || state.currentNick;
    state.echo = c.network.cap.isEnabled('echo-message');
    state.pacer.reset();
    log.info({ nick: state.currentNick, echo: state.echo, accountTag: c.network.cap.isEnabled('account-tag') }, 'IRC registered');
    // A nick held by our own ghost (after a ping timeout or a netsplit) frees up later: take it back.
    const regain = () => {
      if (!sameName(state.currentNick, config.nick)) c.raw(`NICK ${config.nick}`);
      later(state, 60_000, mine(regain));
    };
    later(state, 60_000, mine(regain));
    if (!config.channels.length) setReady(state);
    for (const channel of config.channels) c.join(channel);
    // A channel that cannot be joined must not hold every other line back.
    later(state, 5000, mine(() => setReady(state)));
  }));
  c.on('loggedin', mine((event: { account: string }) => log.info({ account: event.account }, 'IRC SASL login done')));
  c.on('sasl failed', mine((event: { reason?: string }) => {
    log.error({ reason: event.reason }, 'IRC SASL login failed: check irc.sasl.account and irc.sasl.password (rekick goes on without its account)');
  }));
  c.on('nick in use', mine(() => {
    if (state.registered) return;
    state.currentNick = `${state.currentNick.slice(0, 29)}_`;
    log.warn({ nick: state.currentNick }, 'IRC nick in use; trying another');
    c.raw(`NICK ${state.currentNick}`);
  }));
}

/** Our own joins (ready once every channel is joined), nick changes and kicks (rejoin in 5 s). */
function onChannels(state: IrcState, c: IrcClientLike, mine: Mine): void {
  const { config, log } = state;
  c.on('join', mine((event: { nick: string; channel: string }) => {
    if (!sameName(event.nick, state.currentNick)) return;
    state.joined.add(event.channel.toLowerCase());
    if (config.channels.every((ch) => state.joined.has(ch.toLowerCase()))) setReady(state);
  }));
  c.on('nick', mine((event: { nick: string; new_nick: string }) => {
    if (!sameName(event.nick, state.currentNick)) return;
    log.info({ from: state.currentNick, to: event.new_nick }, 'IRC nick changed');
    state.currentNick = event.new_nick;
  }));
  c.on('kick', mine((event: { kicked: string; channel: string }) => {
    if (!sameName(event.kicked, state.currentNick)) return;
    state.joined.delete(event.channel.toLowerCase());
    log.warn({ channel: event.channel }, 'kicked from an IRC channel; rejoining in 5s');
    later(state, 5000, mine(() => c.join(event.channel)));
  }));
}

/** Server errors and socket errors: remembered as the last error, logged. */
function onErrors(state: IrcState, c: IrcClientLike, mine: Mine): void {
  const { config, log, stats } = state;
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
}

/** The connection closed: unconfirmed lines wait again, and unless rekick is stopping, it reconnects. */
function onClose(state: IrcState, c: IrcClientLike, whois: WhoisRequests, mine: Mine): void {
  const { log, stats, outbox } = state;
  c.on('close', mine(() => {
    const wasReady = state.ready;
    const wasRegistered = state.registered;
    state.registered = false;
    state.ready = false;
    state.client = undefined;
    whois.close();
    outbox.requeue();
    c.removeAllListeners();
    if (state.stopped) return;
    if (wasRegistered) {
      stats.disconnects += 1;
      log.warn({ wasReady, queued: outbox.all().length, lastError: stats.lastError }, 'IRC connection lost');
    } else {
      stats.failedAttempts += 1;
      log.warn({ attempt: state.attempts, lastError: stats.lastError }, 'IRC connection attempt failed');
    }
    scheduleReconnect(state);
  }));
}

/** Reconnects after a backoff: 1 s doubling to 60 s (configurable), with 20% jitter either way. */
function scheduleReconnect(state: IrcState): void {
  if (state.stopped) return;
  const minBackoff = state.options.reconnect?.minMs ?? 1000;
  const maxBackoff = state.options.reconnect?.maxMs ?? 60_000;
  const base = Math.min(maxBackoff, minBackoff * 2 ** Math.min(state.attempts, 16));
  const wait = Math.round(base * (0.8 + Math.random() * 0.4));
  state.attempts += 1;
  state.log.info({ waitMs: wait, attempt: state.attempts }, 'IRC reconnecting');
  later(state, wait, () => connect(state));
}
