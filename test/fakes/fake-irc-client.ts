/**
 * A fake irc-framework client for the IRC adapter's unit tests: it registers and joins at once, records every
 * raw line written (`written`), and `line()` plays a PRIVMSG from a user (with a services account or none).
 */
import { EventEmitter } from 'node:events';
import type { IrcClientLike } from '../../src/chat/irc';

export class FakeIrcClient extends EventEmitter {
  registeredAs = 'rekick';
  written: string[] = [];
  connected = false;
  user = { nick: 'rekick', username: 'rekick' };
  /** Capabilities the server granted (account-tag: messages carry the sender's account). */
  caps: string[] = ['account-tag'];
  network = { cap: { isEnabled: (c: string) => this.caps.includes(c) }, options: {} };
  connect() {
    this.connected = true;
    setImmediate(() => this.emit('registered', { nick: this.registeredAs }));
  }
  raw(line: string) {
    this.written.push(line);
  }
  join(channel: string) {
    setImmediate(() => this.emit('join', { nick: this.registeredAs, channel }));
  }
  quit() {
    this.connected = false;
    setImmediate(() => this.emit('close'));
  }
  whois(nick: string, cb: (e: { nick: string; account?: string }) => void) {
    setImmediate(() => cb({ nick }));
  }
  /** A PRIVMSG from `nick` (logged in as `account`, if given) to a channel or to the bot. */
  line(nick: string, target: string, message: string, account?: string) {
    this.emit('privmsg', { nick, ident: nick, hostname: `${nick}.example`, target, message, tags: {}, account });
  }
  /** The texts rekick wrote to a target, in order. */
  said(target: string): string[] {
    const prefix = `PRIVMSG ${target} :`;
    return this.written.filter((l) => l.toLowerCase().startsWith(prefix.toLowerCase())).map((l) => l.slice(prefix.length));
  }
  asClient(): IrcClientLike {
    return this as unknown as IrcClientLike;
  }
}
