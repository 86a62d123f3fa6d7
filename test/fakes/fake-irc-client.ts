/**
 * A fake irc-framework client for the IRC adapter's unit tests: registers and joins at once, records what is
 * written, and plays a server's users. WHOIS is answered from `users` as it is when the answer is given (as a
 * server does: it answers for whoever holds the nick when it reads the WHOIS), at once (`auto`), when the test
 * says (`manual`: answerWhois/answerAllWhois), or never (`silent`). fakeIrcAdapter() is the adapter over it.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { createIrcAdapter, type IrcAdapter, type IrcAdapterOptions, type IrcClientLike } from '../../src/chat/irc/adapter';

export interface FakeIrcUser {
  nick: string;
  ident: string;
  hostname: string;
  /** The services account; absent when not logged in. */
  account?: string;
}

export class FakeIrcClient extends EventEmitter {
  registeredAs = 'rekick';
  written: string[] = [];
  connected = false;
  user = { nick: 'rekick', username: 'rekick' };
  caps: string[] = [];
  network = { cap: { isEnabled: (c: string) => this.caps.includes(c) }, options: {} as Record<string, unknown> };
  /** The users on the "server", by lower-cased nick. */
  users = new Map<string, FakeIrcUser>();
  whoisMode: 'auto' | 'manual' | 'silent' = 'auto';
  /** WHOIS asked and not answered yet (manual mode), in order. */
  heldWhois: string[] = [];

  asClient(): IrcClientLike {
    return this as unknown as IrcClientLike;
  }

  connect() {
    this.connected = true;
    setImmediate(() => this.emit('registered', { nick: this.registeredAs }));
  }

  raw(line: string) {
    this.written.push(line);
    const m = /^WHOIS (\S+)$/.exec(line);
    if (!m) return;
    if (this.whoisMode === 'auto') setImmediate(() => this.answerWhois(m[1]!));
    else if (this.whoisMode === 'manual') this.heldWhois.push(m[1]!);
  }

  join(channel: string) {
    setImmediate(() => this.emit('join', { nick: this.registeredAs, channel }));
  }

  quit() {
    this.connected = false;
    setImmediate(() => this.emit('close'));
  }

  /** Answers a WHOIS of `nick` with whoever holds the nick now (irc-framework's `whois` event). */
  answerWhois(nick: string) {
    const i = this.heldWhois.findIndex((n) => n.toLowerCase() === nick.toLowerCase());
    if (i >= 0) this.heldWhois.splice(i, 1);
    const u = this.users.get(nick.toLowerCase());
    if (!u) this.emit('whois', { nick, error: 'not_found' });
    else this.emit('whois', { nick: u.nick, ident: u.ident, hostname: u.hostname, account: u.account });
  }

  answerAllWhois() {
    for (const nick of this.heldWhois.splice(0)) this.answerWhois(nick);
  }

  /** A user connects (takes the nick); with `channel`, joins it (extended-join account when the cap is on). */
  arrive(user: FakeIrcUser, channel?: string) {
    const u = { ...user };
    this.users.set(u.nick.toLowerCase(), u);
    if (channel) this.emit('join', { nick: u.nick, ident: u.ident, hostname: u.hostname, channel, ...(this.caps.includes('extended-join') ? { account: u.account ?? false } : {}) });
  }

  leave(nick: string) {
    const u = this.users.get(nick.toLowerCase());
    this.users.delete(nick.toLowerCase());
    this.emit('quit', { nick, ident: u?.ident, hostname: u?.hostname, message: 'bye' });
  }

  changeNick(from: string, to: string) {
    const u = this.users.get(from.toLowerCase())!;
    this.users.delete(from.toLowerCase());
    u.nick = to;
    this.users.set(to.toLowerCase(), u);
    this.emit('nick', { nick: from, ident: u.ident, hostname: u.hostname, new_nick: to });
  }

  /** ACCOUNT (account-notify): a login, or a logout (undefined). */
  account(nick: string, account: string | undefined) {
    const u = this.users.get(nick.toLowerCase())!;
    u.account = account;
    if (this.caps.includes('account-notify')) this.emit('account', { nick: u.nick, ident: u.ident, hostname: u.hostname, account: account ?? false });
  }

  /** A PRIVMSG from a user (with the account tag when the server tags messages). */
  say(nick: string, target: string, message: string) {
    const u = this.users.get(nick.toLowerCase())!;
    const tag = this.caps.includes('account-tag') && u.account ? { account: u.account } : {};
    this.emit('privmsg', { type: 'privmsg', nick: u.nick, ident: u.ident, hostname: u.hostname, target, message, tags: {}, ...tag });
  }

  /** PRIVMSG lines rekick wrote to `target`. */
  linesTo(target: string): string[] {
    const prefix = `PRIVMSG ${target} :`;
    return this.written.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }
}

/**
 * The IRC adapter over `fake`, as the unit tests use it: nick rekick, `channels` (default #builders), a silent log,
 * no drain at stop; `options` add to or override that.
 */
export function fakeIrcAdapter(fake: FakeIrcClient, options: Partial<Omit<IrcAdapterOptions, 'config' | 'createClient'>> & { channels?: string[] } = {}): IrcAdapter {
  const { channels = ['#builders'], ...rest } = options;
  return createIrcAdapter({
    config: { host: 'x', port: 1, tls: false, nick: 'rekick', channels, rejectUnauthorized: true },
    log: pino({ level: 'silent' }),
    createClient: () => fake.asClient(),
    drainOnStopMs: 0,
    ...rest,
  });
}
