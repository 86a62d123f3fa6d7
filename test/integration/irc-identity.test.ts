/**
 * The IRC adapter against a real network (inspircd + atheme on loopback): SASL login and joins, command lines
 * handed on with the sender's services account, a nick taken without logging in has no account, and what is
 * not addressed to the bot is not handed on.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { createIrcAdapter, type IrcAdapter } from '../../src/chat/irc/adapter';
import { connectIrcUser, startIrcNetwork, type IrcNetwork, type IrcUser } from './helpers/ircd';

const CHANNEL = '#builders';
let net: IrcNetwork;
let bot: IrcAdapter;
const received: ChatMessage[] = [];
const users: IrcUser[] = [];

async function waitForMessage(pred: (m: ChatMessage) => boolean, timeoutMs = 10_000): Promise<ChatMessage> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = received.find(pred);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no matching message; got ${JSON.stringify(received)}`);
}

beforeAll(async () => {
  net = await startIrcNetwork({
    accounts: [
      { account: 'rekick', password: 'bot-pw-1' },
      { account: 'nirik', password: 'nirik-pw-1' },
    ],
  });
  bot = createIrcAdapter({
    config: { host: net.host, port: net.port, tls: false, nick: 'rekick', sasl: { account: 'rekick', password: 'bot-pw-1' }, channels: [CHANNEL], rejectUnauthorized: true },
    log: pino({ level: 'silent' }),
  });
  await bot.start(async (m) => {
    received.push(m);
  });
});

afterAll(async () => {
  await Promise.allSettled(users.map((u) => u.quit()));
  await bot?.stop('tests done');
  await net?.stop();
});

describe('IRC adapter on a real network', () => {
  it('logs in with SASL as its services account and joins the channel', async () => {
    expect(bot.isReady()).toBe(true);
    const nirik = await connectIrcUser(net, { nick: 'nirik', sasl: { account: 'nirik', password: 'nirik-pw-1' }, channels: [CHANNEL] });
    users.push(nirik);
    // The bot's own lines carry its account: proof the SASL login took.
    await bot.send({ adapter: 'irc', room: CHANNEL }, { text: 'hello from rekick', kind: 'notice' });
    const line = await nirik.waitForLine((l) => l.message === 'hello from rekick');
    expect(line.nick).toBe('rekick');
    expect(line.account).toBe('rekick');
    expect(line.target).toBe(CHANNEL);
  });

  it('hands a logged-in user\'s command on with the services account, never the nick', async () => {
    const nirik = users.find((u) => u.nick === 'nirik')!;
    nirik.say(CHANNEL, '!approve buildarm-03');
    const m = await waitForMessage((x) => x.text === '!approve buildarm-03');
    expect(m.user).toEqual({ source: 'irc', id: 'nirik', display: 'nirik' });
    expect(m.origin).toEqual({ adapter: 'irc', room: CHANNEL });
  });

  it('a client using an approver\'s nick without logging in has no account', async () => {
    const real = users.find((u) => u.nick === 'nirik')!;
    await real.quit();
    const impostor = await connectIrcUser(net, { nick: 'nirik', channels: [CHANNEL] });
    users.push(impostor);
    impostor.say(CHANNEL, '!approve buildarm-04');
    const m = await waitForMessage((x) => x.text === '!approve buildarm-04');
    expect(m.user.display).toBe('nirik');
    expect(m.user.id).toBeUndefined();
  });

  it('addressed lines become commands, private messages are always handed on, chatter is not', async () => {
    const other = await connectIrcUser(net, { nick: 'kevin', channels: [CHANNEL] });
    users.push(other);
    other.say(CHANNEL, 'just chatting about rekick');
    other.say(CHANNEL, 'rekick: status buildarm-01');
    other.say(CHANNEL, 'rekick, !queue');
    other.say('rekick', 'help');
    const addressed = await waitForMessage((x) => x.text === '!status buildarm-01');
    expect(addressed.origin.room).toBe(CHANNEL);
    await waitForMessage((x) => x.text === '!queue');
    const priv = await waitForMessage((x) => x.text === '!help');
    expect(priv.origin).toEqual({ adapter: 'irc', room: 'kevin', private: true });
    expect(received.some((x) => x.text.includes('chatting'))).toBe(false);
  });
});
