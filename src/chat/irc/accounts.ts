/**
 * Who holds which services account, as far as rekick can see: the users who share a channel with it. The server
 * tells rekick of every JOIN (with the account, under `extended-join`), ACCOUNT change (`account-notify`),
 * NICK, PART, KICK and QUIT of those users, in order, on the same stream as their lines; so while a user shares
 * a channel with rekick and the server has `account-notify`, what this map says of their nick is what was true
 * when their last line was sent. A user who shares no channel with rekick is not tracked (WHOIS is asked).
 *
 * It also tells a pending WHOIS whether the nick changed hands (QUIT, NICK, JOIN, PART, KICK, ACCOUNT seen for
 * it) between the line and the answer.
 */
import type { Client } from 'irc-framework';
import type { CaseFold } from './casefold';

interface Member {
  nick: string;
  ident?: string;
  hostname?: string;
  /** The account; null: known not logged in; undefined: not known yet. */
  account?: string | null;
  channels: Set<string>;
}

export interface NickWatch {
  /** Whether anything happened to the nick since watch() (it may be someone else now). */
  changed(): boolean;
  done(): void;
}

export interface TrackedAccount {
  /** The account; undefined when the user is known not to be logged in. */
  account?: string;
}

export class AccountTracker {
  private readonly members = new Map<string, Member>();
  private readonly watches = new Map<string, Set<{ changed: boolean }>>();

  constructor(
    private readonly self: () => string,
    private readonly fold: () => CaseFold,
    /** Whether the server sends ACCOUNT changes (account-notify): without them the map's accounts go stale. */
    private readonly accountNotify: () => boolean,
  ) {}

  private key(nick: string): string {
    return this.fold()(nick);
  }

  private isSelf(nick: string): boolean {
    return this.key(nick) === this.key(this.self());
  }

  private touch(nick: string): void {
    for (const w of this.watches.get(this.key(nick)) ?? []) w.changed = true;
  }

  watch(nick: string): NickWatch {
    const key = this.key(nick);
    const w = { changed: false };
    let set = this.watches.get(key);
    if (!set) this.watches.set(key, (set = new Set()));
    set.add(w);
    return {
      changed: () => w.changed,
      done: () => {
        set.delete(w);
        if (!set.size && this.watches.get(key) === set) this.watches.delete(key);
      },
    };
  }

  /** A JOIN; `account` is given under extended-join (false: not logged in), absent without it. */
  onJoin(e: { nick: string; ident?: string; hostname?: string; channel: string; account?: string | false }, extendedJoin: boolean): void {
    if (this.isSelf(e.nick)) return;
    this.touch(e.nick);
    const key = this.key(e.nick);
    const channel = this.key(e.channel);
    const known = this.members.get(key);
    const account = extendedJoin ? e.account || null : known?.account;
    const sameUser = known && known.ident === e.ident && known.hostname === e.hostname;
    const member: Member = sameUser ? known : { nick: e.nick, channels: new Set() };
    member.ident = e.ident;
    member.hostname = e.hostname;
    member.account = extendedJoin || sameUser ? account : undefined;
    member.channels.add(channel);
    this.members.set(key, member);
  }

  /** NAMES after rekick joined: members whose account is not known yet (nor their user@host, mostly). */
  onUserlist(e: { channel: string; users: Array<{ nick: string; ident?: string; hostname?: string }> }): void {
    const channel = this.key(e.channel);
    for (const u of e.users) {
      if (!u.nick || this.isSelf(u.nick)) continue;
      const key = this.key(u.nick);
      const known = this.members.get(key);
      if (known) {
        known.channels.add(channel);
        continue;
      }
      this.members.set(key, { nick: u.nick, ident: u.ident || undefined, hostname: u.hostname || undefined, channels: new Set([channel]) });
    }
  }

  onPart(e: { nick: string; channel: string }): void {
    this.leave(e.nick, e.channel);
  }

  onKick(e: { kicked: string; channel: string }): void {
    this.leave(e.kicked, e.channel);
  }

  private leave(nick: string, channelName: string): void {
    const channel = this.key(channelName);
    if (this.isSelf(nick)) {
      // rekick left the channel: it no longer sees its members' changes there.
      for (const [key, m] of this.members) {
        m.channels.delete(channel);
        if (!m.channels.size) {
          this.members.delete(key);
          this.touch(m.nick);
        }
      }
      return;
    }
    this.touch(nick);
    const key = this.key(nick);
    const m = this.members.get(key);
    if (!m) return;
    m.channels.delete(channel);
    if (!m.channels.size) this.members.delete(key);
  }

  onQuit(e: { nick: string }): void {
    this.touch(e.nick);
    this.members.delete(this.key(e.nick));
  }

  onNick(e: { nick: string; new_nick: string }): void {
    this.touch(e.nick);
    this.touch(e.new_nick);
    const from = this.key(e.nick);
    const to = this.key(e.new_nick);
    const m = this.members.get(from);
    this.members.delete(from);
    this.members.delete(to);
    if (!m || this.isSelf(e.new_nick)) return;
    m.nick = e.new_nick;
    this.members.set(to, m);
  }

  /** ACCOUNT (account-notify): false is a logout. */
  onAccount(e: { nick: string; ident?: string; hostname?: string; account: string | false }): void {
    this.touch(e.nick);
    const m = this.members.get(this.key(e.nick));
    if (!m) return;
    m.account = e.account || null;
    if (e.ident) m.ident = e.ident;
    if (e.hostname) m.hostname = e.hostname;
  }

  /** CHGHOST (`user updated`): the user's ident or host changed. */
  onUserUpdated(e: { nick: string; new_ident?: string; new_hostname?: string }): void {
    if (!e.new_ident && !e.new_hostname) return;
    this.touch(e.nick);
    const m = this.members.get(this.key(e.nick));
    if (!m) return;
    if (e.new_ident) m.ident = e.new_ident;
    if (e.new_hostname) m.hostname = e.new_hostname;
  }

  /**
   * The account of the user who sent a line from nick!ident@hostname, when the map knows it for sure: the nick
   * shares a channel with rekick, its account is known and followed (account-notify), and the user@host is the
   * one the map has. Otherwise undefined (ask WHOIS).
   */
  lookup(nick: string, ident: string | undefined, hostname: string | undefined): TrackedAccount | undefined {
    if (!this.accountNotify() || !ident || !hostname) return undefined;
    const m = this.members.get(this.key(nick));
    if (!m || m.account === undefined || m.ident !== ident || m.hostname !== hostname) return undefined;
    return m.account ? { account: m.account } : {};
  }

  /** What a WHOIS answered (as of now) for a member whose account was not known: followed from here on. */
  learn(nick: string, ident: string, hostname: string, account: string | undefined): void {
    if (!this.accountNotify()) return;
    const m = this.members.get(this.key(nick));
    if (!m) return;
    m.ident = ident;
    m.hostname = hostname;
    m.account = account ?? null;
  }

  /**
   * Where a private line for an account goes: `nick` when the map knows it holds the account, else another
   * tracked nick that holds it; `none` when the map knows `nick` does not hold it and no tracked nick does;
   * `unknown` when the map cannot tell (ask WHOIS).
   */
  holderOf(account: string, nick: string): { nick: string } | 'none' | 'unknown' {
    if (!this.accountNotify()) return 'unknown';
    const wanted = account.toLowerCase();
    const holds = (m: Member | undefined) => typeof m?.account === 'string' && m.account.toLowerCase() === wanted;
    const m = this.members.get(this.key(nick));
    if (holds(m)) return { nick: m!.nick };
    for (const other of this.members.values()) if (holds(other)) return { nick: other.nick };
    return m && m.account !== undefined ? 'none' : 'unknown';
  }

  /** Members followed (tests, diagnosis). */
  size(): number {
    return this.members.size;
  }
}

/** Feeds the tracker from an irc-framework client's events (the listeners go with the client's removeAllListeners). */
export function trackAccounts(client: Pick<Client, 'on'>, tracker: AccountTracker, extendedJoin: () => boolean): void {
  client.on('join', (e: Parameters<AccountTracker['onJoin']>[0]) => tracker.onJoin(e, extendedJoin()));
  client.on('userlist', (e: Parameters<AccountTracker['onUserlist']>[0]) => tracker.onUserlist(e));
  client.on('part', (e: Parameters<AccountTracker['onPart']>[0]) => tracker.onPart(e));
  client.on('kick', (e: Parameters<AccountTracker['onKick']>[0]) => tracker.onKick(e));
  client.on('quit', (e: Parameters<AccountTracker['onQuit']>[0]) => tracker.onQuit(e));
  client.on('nick', (e: Parameters<AccountTracker['onNick']>[0]) => tracker.onNick(e));
  client.on('account', (e: Parameters<AccountTracker['onAccount']>[0]) => tracker.onAccount(e));
  client.on('user updated', (e: Parameters<AccountTracker['onUserUpdated']>[0]) => tracker.onUserUpdated(e));
}
