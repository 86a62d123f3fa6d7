/**
 * IRC identity bound when the line arrives, against real inspircd + atheme with `account-tag` turned off. The bot
 * reaches the server through a proxy that can hold its WHOIS back, so a nick changing hands between a line and
 * the server's answer is staged deterministically.
 *
 * WHOIS only (no account-tag, account-notify, extended-join): a logged-in approver's line is bound by the WHOIS
 * asked at arrival; an impostor who takes the nick without logging in has no account; the nick-swap race (the
 * impostor speaks and leaves, the approver comes back before the WHOIS is answered) is refused, by user@host
 * (private message) and by the QUIT seen in the channel (same user@host); timed-out WHOIS leave no listener on
 * irc-framework's client; a PM-started job's lines are not sent to whoever took the nick.
 *
 * account-notify + extended-join (no account-tag): lines are bound from the account map without any WHOIS; an
 * impostor is known as not logged in; a PM-started job's lines follow the account to its new nick, not to who
 * took the old one.
 *
 * WHOIS only, the bot in inspircd's default flood class: an outsider (in a roomy class of their own) floods the bot
 * with 100 private lines; the bot's WHOIS are paced and shared, so it is not disconnected and the approver who
 * speaks next is bound to their account.
 */
import IRC from 'irc-framework';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, OutgoingMessage } from '../../src/chat/chat-adapter';
import { createIrcAdapter, type IrcAdapter, type IrcClientLike } from '../../src/chat/irc/adapter';
import { until } from '../support/until';
import { startHoldGate, type HoldGate } from './helpers/irc-hold-gate';
import { connectIrcUser, startIrcNetwork, type IrcAccountCaps, type IrcNetwork, type IrcNetworkOptions, type IrcUser } from './helpers/ircd';

const CHANNEL = '#builders';
const BOT = { account: 'rekick', password: 'bot-pw-3' };
const NIRIK = { account: 'nirik', password: 'nirik-pw-3' };

interface World {
  net: IrcNetwork;
  gate: HoldGate;
  bot: IrcAdapter;
  botClient(): InstanceType<typeof IRC.Client>;
  received: ChatMessage[];
  users: IrcUser[];
  waitFor(pred: (m: ChatMessage) => boolean, what: string): Promise<ChatMessage>;
}

/**
 * One network per describe block: inspircd + atheme with these caps, the bot behind a hold gate. `network`
 * overrides the network's options (default: a roomy client class), `whoisTimeoutMs` the bot's (default 3 s).
 */
function useWorld(caps: IrcAccountCaps, more: { network?: Partial<IrcNetworkOptions>; whoisTimeoutMs?: number } = {}): World {
  const world = { received: [] as ChatMessage[], users: [] as IrcUser[] } as unknown as World;
  let client: InstanceType<typeof IRC.Client> | undefined;
  beforeAll(async () => {
    // Flood control is not the subject here: a roomy class, so fakelag never delays the bot's WHOIS.
    world.net = await startIrcNetwork({ accounts: [BOT, NIRIK], ircv3: caps, clientClass: { threshold: 100, commandrate: 100_000 }, ...more.network });
    world.gate = await startHoldGate(world.net);
    world.bot = createIrcAdapter({
      config: { host: world.net.host, port: world.gate.port, tls: false, nick: 'rekick', sasl: BOT, channels: [CHANNEL], rejectUnauthorized: true },
      log: pino({ level: 'silent' }),
      createClient: () => (client = new IRC.Client()) as IrcClientLike,
      whoisTimeoutMs: more.whoisTimeoutMs ?? 3000,
    });
    world.botClient = () => client!;
    await world.bot.start(async (m) => {
      world.received.push(m);
    });
    world.waitFor = async (pred, what) => {
      await until(() => world.received.some(pred), what, 15_000, () => JSON.stringify(world.received.slice(-3)));
      return world.received.find(pred)!;
    };
  });
  afterAll(async () => {
    await Promise.allSettled(world.users.map((u) => u.quit()));
    await world.bot?.stop('tests done');
    await world.gate?.close();
    await world.net?.stop();
  });
  return world;
}

async function connect(world: World, options: Parameters<typeof connectIrcUser>[1]): Promise<IrcUser> {
  const u = await connectIrcUser(world.net, options);
  world.users.push(u);
  return u;
}

const progress = (text: string): OutgoingMessage => ({ kind: 'progress', text });

describe('no account-tag, no account-notify, no extended-join: WHOIS at arrival', () => {
  const w = useWorld({ accountTag: false, accountNotify: false, extendedJoin: false });

  it('the server offers none of the account capabilities', () => {
    const caps = w.botClient().network.cap;
    expect([caps.isEnabled('account-tag'), caps.isEnabled('account-notify'), caps.isEnabled('extended-join')]).toEqual([false, false, false]);
  });

  it("a logged-in approver's line is bound by the WHOIS asked when it arrives", async () => {
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK, channels: [CHANNEL] });
    nirik.say(CHANNEL, '!approve buildarm-01');
    const m = await w.waitFor((x) => x.text === '!approve buildarm-01', 'the approver\'s line');
    expect(m.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    await nirik.quit();
  });

  it('the nick-swap race by private message: the WHOIS answered for the returning approver (another user@host) is refused', async () => {
    w.gate.hold(/^WHOIS /i);
    const impostor = await connect(w, { nick: 'nirik', username: 'mallory' });
    impostor.say('rekick', 'approve all');
    await until(() => w.gate.held().length === 1, 'the bot\'s WHOIS (held)', 15_000);
    await impostor.quit();
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK });
    w.gate.release();
    const m = await w.waitFor((x) => x.text === '!approve all', 'the impostor\'s line');
    expect(m.user.id).toBeUndefined();
    expect(m.user.unconfirmed).toMatch(/WHOIS answered for another user/);
    expect(m.origin).toEqual({ adapter: 'irc', room: 'nirik', private: true });
    await nirik.quit();
  });

  it('the nick-swap race in the channel with the same user@host: the QUIT seen before the answer refuses it', async () => {
    w.gate.hold(/^WHOIS /i);
    const impostor = await connect(w, { nick: 'nirik', channels: [CHANNEL] });
    impostor.say(CHANNEL, '!approve buildarm-02');
    await until(() => w.gate.held().length === 1, 'the bot\'s WHOIS (held)', 15_000);
    await impostor.quit();
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK, channels: [CHANNEL] });
    w.gate.release();
    const m = await w.waitFor((x) => x.text === '!approve buildarm-02', 'the impostor\'s line');
    expect(m.user.id).toBeUndefined();
    expect(m.user.unconfirmed).toMatch(/WHOIS answered for another user/);
    await nirik.quit();
  });

  it('WHOIS that time out leave no listener behind on irc-framework\'s client, and their late answers are not taken for newer ones', async () => {
    const kevin = await connect(w, { nick: 'kevin', channels: [CHANNEL] });
    const before = w.received.length;
    w.gate.hold(/^WHOIS /i);
    for (let i = 0; i < 5; i++) kevin.say(CHANNEL, `!status buildarm-0${i}`);
    await until(() => w.received.length === before + 5, 'five lines (timed out)', 20_000);
    expect(w.botClient().listenerCount('whois')).toBeLessThanOrEqual(1);
    expect(w.received.slice(before).map((m) => m.user.unconfirmed)).toEqual(Array(5).fill('WHOIS did not answer in time'));
    w.gate.release();
    kevin.say(CHANNEL, '!status buildarm-09');
    const m = await w.waitFor((x) => x.text === '!status buildarm-09', 'the line after the late answers');
    expect(m.user).toEqual({ source: 'irc', display: 'kevin' });
    await kevin.quit();
  });

  it("a PM-started job's lines are not sent to whoever took the nick", async () => {
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK });
    nirik.say('rekick', 'reinstall buildarm-03');
    const m = await w.waitFor((x) => x.text === '!reinstall buildarm-03', 'the private line');
    expect(m.origin).toEqual({ adapter: 'irc', room: 'nirik', private: true, account: 'nirik' });
    await w.bot.send(m.origin, progress('buildarm-03 [1/8] disable started'));
    await nirik.waitForLine((l) => l.message === 'buildarm-03 [1/8] disable started');
    await nirik.quit();
    const taker = await connect(w, { nick: 'nirik' });
    const dropped = w.bot.stats().privateDropped;
    await w.bot.send(m.origin, progress('buildarm-03 [1/8] disable ok 1s'));
    await until(() => w.bot.stats().privateDropped === dropped + 1, 'the line dropped', 15_000);
    // A line to the nick itself (not the job's) does reach the taker: nothing of the job's came before it.
    await w.bot.send({ adapter: 'irc', room: 'nirik' }, { kind: 'reply', text: 'marker' });
    await taker.waitForLine((l) => l.message === 'marker');
    expect(taker.seen.map((l) => l.message)).toEqual(['marker']);
  });
});

describe('no account-tag, with account-notify and extended-join: the account map', () => {
  const w = useWorld({ accountTag: false });

  it('the server offers account-notify and extended-join, not account-tag', () => {
    const caps = w.botClient().network.cap;
    expect([caps.isEnabled('account-tag'), caps.isEnabled('account-notify'), caps.isEnabled('extended-join')]).toEqual([false, true, true]);
  });

  it("a logged-in approver's line is bound from extended-join, without a WHOIS; an impostor on the nick has no account", async () => {
    w.gate.hold(/^WHOIS /i);
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK, channels: [CHANNEL] });
    nirik.say(CHANNEL, '!approve buildarm-01');
    const m = await w.waitFor((x) => x.text === '!approve buildarm-01', 'the approver\'s line');
    expect(m.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    await nirik.quit();
    const impostor = await connect(w, { nick: 'nirik', channels: [CHANNEL] });
    impostor.say(CHANNEL, '!approve buildarm-02');
    const i = await w.waitFor((x) => x.text === '!approve buildarm-02', 'the impostor\'s line');
    expect(i.user).toEqual({ source: 'irc', display: 'nirik' });
    expect(w.gate.held()).toEqual([]);
    w.gate.release();
    await impostor.quit();
  });

  it("a PM-started job's lines follow the account to its new nick, not to who took the old one", async () => {
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK, channels: [CHANNEL] });
    nirik.say('rekick', 'reinstall buildarm-03');
    const m = await w.waitFor((x) => x.text === '!reinstall buildarm-03', 'the private line');
    expect(m.origin).toEqual({ adapter: 'irc', room: 'nirik', private: true, account: 'nirik' });
    nirik.client.raw('NICK nirik_afk');
    await until(() => nirik.client.user.nick === 'nirik_afk', 'the nick change', 15_000);
    const taker = await connect(w, { nick: 'nirik', channels: [CHANNEL] });
    // The bot has seen the NICK and the taker's JOIN once it has the taker's line (one ordered stream).
    taker.say(CHANNEL, '!status');
    await w.waitFor((x) => x.text === '!status' && x.user.display === 'nirik' && !x.user.id, 'the taker\'s line');
    await w.bot.send(m.origin, progress('buildarm-03 [1/8] disable started'));
    await nirik.waitForLine((l) => l.message === 'buildarm-03 [1/8] disable started');
    await w.bot.send({ adapter: 'irc', room: 'nirik' }, { kind: 'reply', text: 'marker' });
    await taker.waitForLine((l) => l.message === 'marker');
    expect(taker.seen.filter((l) => l.target === 'nirik').map((l) => l.message)).toEqual(['marker']);
  });
});

describe('no account-tag, WHOIS only, the bot in the default flood class: an outsider floods it', () => {
  // The outsider connects from this address, which has a roomy class: their flood reaches the bot at once.
  const FLOODER_ADDRESS = '127.0.0.77';
  const w = useWorld({ accountTag: false, accountNotify: false, extendedJoin: false }, {
    network: { clientClass: undefined, roomyClassFor: FLOODER_ADDRESS },
    whoisTimeoutMs: 5000,
  });

  it("100 private lines from an outsider: rekick is not disconnected, and the approver's !whoami and !approve afterwards are bound to their account", async () => {
    const flooder = await connect(w, { nick: 'flooder', localAddress: FLOODER_ADDRESS });
    const nirik = await connect(w, { nick: 'nirik', sasl: NIRIK });
    for (let i = 0; i < 100; i++) flooder.say('rekick', `status buildarm-${i}`);
    const fromFlooder = () => w.received.filter((m) => m.user.display === 'flooder');
    await until(() => fromFlooder().length === 100, 'the 100 lines handed on', 30_000, () => `${fromFlooder().length} so far`);
    expect(fromFlooder().every((m) => m.user.id === undefined)).toBe(true);

    nirik.say('rekick', 'whoami');
    nirik.say('rekick', 'approve buildarm-01');
    const whoami = await w.waitFor((x) => x.text === '!whoami' && x.user.display === 'nirik', "the approver's !whoami");
    const approve = await w.waitFor((x) => x.text === '!approve buildarm-01', "the approver's !approve");
    expect(whoami.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    expect(approve.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    // One WHOIS per few lines, not one per line.
    expect(w.bot.stats().whoisSent).toBeLessThan(20);
    // Still the same connection, and the server has not complained.
    await w.bot.send({ adapter: 'irc', room: 'nirik' }, { kind: 'reply', text: 'still here' });
    await nirik.waitForLine((l) => l.message === 'still here');
    expect(w.bot.stats()).toMatchObject({ registrations: 1, disconnects: 0 });
    expect(w.bot.stats().lastError).toBeUndefined();
  });
});
