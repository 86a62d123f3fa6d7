/**
 * The IRC adapter binds a line to its sender's services account when the line arrives, with a fake client and
 * no account-tag: the WHOIS goes out at once and counts only for the line's nick!user@host (an impostor's line
 * queued behind others is refused when the answer is for the real approver who came back), a nick seen changing
 * hands before the answer unbinds the line, lines keep their arrival order, a WHOIS that does not answer refuses
 * role commands (and leaks no listener), and with account-notify + extended-join the account map binds lines
 * without WHOIS.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import type { ChatMessage, MessageHandler } from '../../src/chat/chat-adapter';
import type { IrcAdapter } from '../../src/chat/irc/adapter';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { FakeExecutor } from '../fakes/fake-executor';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';
import { until } from '../support/until';

const CHANNEL = '#builders';
const NIRIK = { nick: 'nirik', ident: 'nirik', hostname: 'fedora/staff/nirik', account: 'nirik' };
const IMPOSTOR = { nick: 'nirik', ident: 'nirik2', hostname: 'evil.example' };
const KEVIN = { nick: 'kevin', ident: 'kevin', hostname: 'fedora/staff/kevin', account: 'kevin' };

async function setup(caps: string[] = [], whoisTimeoutMs = 5000, makeHandler?: (adapter: IrcAdapter) => MessageHandler) {
  const fake = new FakeIrcClient();
  fake.caps = caps;
  const adapter = fakeIrcAdapter(fake, { channels: [CHANNEL], whoisTimeoutMs });
  const got: ChatMessage[] = [];
  await adapter.start(
    makeHandler?.(adapter) ??
      ((m) => {
        got.push(m);
      }),
  );
  const whoisAsked = () => fake.written.filter((l) => l.startsWith('WHOIS '));
  return { fake, adapter, got, whoisAsked };
}

describe('IRC identity is bound when the line arrives (no account-tag)', () => {
  it("an impostor's !approve all, queued behind another line, is refused when WHOIS answers for the returning approver", async () => {
    const executor = await FakeExecutor.create();
    await executor.seed('buildarm-01', 'awaiting-approval');
    const handled: string[] = [];
    const { fake, adapter } = await setup([], 5000, (bot) => {
      const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(executor.config.roles), log: pino({ level: 'silent' }), audit: () => undefined, adapters: [bot] });
      return async (m) => {
        handled.push(`${m.user.display}:${m.text}`);
        await router.handle(m);
      };
    });
    fake.whoisMode = 'manual';
    fake.arrive(KEVIN, CHANNEL);
    fake.arrive(IMPOSTOR, CHANNEL);
    fake.say('kevin', CHANNEL, '!status');
    fake.say('nirik', CHANNEL, '!approve all');
    // The impostor leaves the nick; the real approver comes back (logged in) before the WHOIS answers.
    fake.leave('nirik');
    fake.arrive(NIRIK, CHANNEL);
    fake.whoisMode = 'auto';
    fake.answerAllWhois();
    const approved = () => executor.calls.some((c) => c.method === 'approve');
    await until(() => approved() || fake.linesTo(CHANNEL).some((l) => /approve/.test(l)), 'the refusal', 5000, () => JSON.stringify(fake.written));
    expect(handled).toEqual(['kevin:!status', 'nirik:!approve all']);
    expect(executor.calls.filter((c) => c.method === 'approve')).toEqual([]);
    expect(fake.linesTo(CHANNEL).find((l) => /approve/.test(l))).toMatch(
      /^!approve refused: could not confirm your services account \(WHOIS answered for another user.*\); nothing done \[E_IDENTITY_UNCONFIRMED\]/,
    );
    expect(executor.queue().map((j) => j.host)).toEqual(['buildarm-01']);
    await adapter.stop();
  });

  it('a WHOIS answer for the same user@host does not count when the nick was seen changing hands meanwhile', async () => {
    const { fake, adapter, got } = await setup();
    fake.whoisMode = 'manual';
    const lookalike = { ...IMPOSTOR, ident: NIRIK.ident, hostname: NIRIK.hostname };
    fake.arrive(lookalike, CHANNEL);
    fake.say('nirik', CHANNEL, '!approve all');
    fake.leave('nirik');
    fake.arrive(NIRIK, CHANNEL);
    fake.answerAllWhois();
    await until(() => got.length === 1, 'the line', 5000);
    expect(got[0]!.user).toEqual({ source: 'irc', display: 'nirik', unconfirmed: expect.stringMatching(/another user/) });
    await adapter.stop();
  });

  it('a WHOIS answered for the line\'s own user binds the account; lines are handed on in arrival order', async () => {
    const { fake, adapter, got, whoisAsked } = await setup();
    fake.whoisMode = 'manual';
    fake.arrive(NIRIK, CHANNEL);
    fake.arrive(KEVIN, CHANNEL);
    fake.say('nirik', CHANNEL, '!approve buildarm-01');
    fake.say('kevin', CHANNEL, '!reinstall buildarm-02');
    fake.say('nirik', CHANNEL, '!approve buildarm-03');
    // Every WHOIS went out as its line arrived, before any answer.
    expect(whoisAsked()).toEqual(['WHOIS nirik', 'WHOIS kevin', 'WHOIS nirik']);
    fake.answerWhois('kevin');
    fake.answerWhois('nirik');
    fake.answerWhois('nirik');
    await until(() => got.length === 3, 'three lines', 5000);
    expect(got.map((m) => [m.user.id, m.text])).toEqual([
      ['nirik', '!approve buildarm-01'],
      ['kevin', '!reinstall buildarm-02'],
      ['nirik', '!approve buildarm-03'],
    ]);
    await adapter.stop();
  });

  it('a WHOIS that does not answer in time unbinds the line (read-only commands still work); no listener is left behind', async () => {
    const { fake, adapter, got } = await setup([], 30);
    fake.whoisMode = 'silent';
    fake.arrive(NIRIK, CHANNEL);
    for (let i = 0; i < 40; i++) fake.say('nirik', CHANNEL, `!status buildarm-${i}`);
    await until(() => got.length === 40, 'forty lines', 10_000);
    // One shared listener, whatever the number of WHOIS that timed out.
    expect(fake.listenerCount('whois')).toBeLessThanOrEqual(1);
    expect(got.every((m) => m.user.id === undefined && m.user.unconfirmed === 'WHOIS did not answer in time')).toBe(true);
    const roles = createRoles({ operator: [], approver: ['irc:nirik'] });
    expect(roles.refusal(got[0]!.user, 'anyone')).toBeUndefined();
    expect(roles.refusal(got[0]!.user, 'approver')).toBe(
      'could not confirm your services account (WHOIS did not answer in time); nothing done [E_IDENTITY_UNCONFIRMED]; try again',
    );
    await adapter.stop();
  });

  it('an answer that comes after its WHOIS timed out is not taken for the next WHOIS of that nick', async () => {
    const { fake, adapter, got } = await setup([], 50);
    fake.whoisMode = 'manual';
    fake.arrive(IMPOSTOR, CHANNEL);
    fake.say('nirik', CHANNEL, '!status');
    await until(() => got.length === 1, 'the first line (timed out)', 5000);
    // The late answer (for whoever holds the nick now: the approver) comes, then the next line's WHOIS.
    fake.leave('nirik');
    fake.arrive(NIRIK, CHANNEL);
    fake.answerWhois('nirik');
    fake.say('nirik', CHANNEL, '!approve all');
    fake.answerWhois('nirik');
    await until(() => got.length === 2, 'the second line', 5000);
    expect(got.map((m) => m.user.id)).toEqual([undefined, 'nirik']);
    await adapter.stop();
  });
});

describe('IRC account map (account-notify + extended-join, no account-tag)', () => {
  const caps = ['account-notify', 'extended-join'];

  it('binds lines of users who share a channel without WHOIS, and follows NICK, ACCOUNT and QUIT', async () => {
    const { fake, adapter, got, whoisAsked } = await setup(caps);
    fake.whoisMode = 'silent';
    fake.arrive(NIRIK, CHANNEL);
    fake.say('nirik', CHANNEL, '!approve buildarm-01');
    fake.changeNick('nirik', 'nirik_afk');
    fake.say('nirik_afk', CHANNEL, '!approve buildarm-02');
    fake.account('nirik_afk', undefined);
    fake.say('nirik_afk', CHANNEL, '!approve buildarm-03');
    fake.account('nirik_afk', 'nirik');
    fake.say('nirik_afk', CHANNEL, '!approve buildarm-04');
    // The approver quits; an impostor takes the nick and joins without logging in.
    fake.leave('nirik_afk');
    fake.arrive({ ...IMPOSTOR, nick: 'nirik_afk' }, CHANNEL);
    fake.say('nirik_afk', CHANNEL, '!approve buildarm-05');
    await until(() => got.length === 5, 'five lines', 5000);
    expect(got.map((m) => m.user.id)).toEqual(['nirik', 'nirik', undefined, 'nirik', undefined]);
    expect(got.every((m) => m.user.unconfirmed === undefined)).toBe(true);
    expect(whoisAsked()).toEqual([]);
    await adapter.stop();
  });

  it('asks WHOIS when the line\'s user@host is not the one the map has, or the sender shares no channel', async () => {
    const { fake, adapter, got, whoisAsked } = await setup(caps);
    fake.arrive(NIRIK, CHANNEL);
    // The same nick from another user@host (the map missed something): not trusted, WHOIS asked.
    fake.emit('privmsg', { nick: 'nirik', ident: 'x', hostname: 'elsewhere', target: CHANNEL, message: '!approve all', tags: {} });
    fake.arrive(KEVIN);
    fake.say('kevin', 'rekick', 'status');
    await until(() => got.length === 2, 'two lines', 5000);
    expect(whoisAsked()).toEqual(['WHOIS nirik', 'WHOIS kevin']);
    expect(got.map((m) => [m.user.id, m.user.unconfirmed])).toEqual([
      [undefined, expect.stringMatching(/another user/)],
      ['kevin', undefined],
    ]);
    await adapter.stop();
  });

  it('without account-notify the map is not trusted (accounts may have changed unseen): WHOIS every line', async () => {
    const { fake, adapter, got, whoisAsked } = await setup(['extended-join']);
    fake.arrive(NIRIK, CHANNEL);
    fake.say('nirik', CHANNEL, '!approve all');
    await until(() => got.length === 1, 'the line', 5000);
    expect(whoisAsked()).toEqual(['WHOIS nirik']);
    expect(got[0]!.user.id).toBe('nirik');
    await adapter.stop();
  });

  it('members present before rekick joined are learnt by their first WHOIS, then followed', async () => {
    const { fake, adapter, got, whoisAsked } = await setup(caps);
    fake.users.set('nirik', { ...NIRIK });
    fake.emit('userlist', { channel: CHANNEL, users: [{ nick: 'nirik' }, { nick: 'rekick' }] });
    fake.say('nirik', CHANNEL, '!approve buildarm-01');
    await until(() => got.length === 1, 'the first line', 5000);
    fake.say('nirik', CHANNEL, '!approve buildarm-02');
    await until(() => got.length === 2, 'the second line', 5000);
    expect(got.map((m) => m.user.id)).toEqual(['nirik', 'nirik']);
    expect(whoisAsked()).toEqual(['WHOIS nirik']);
    await adapter.stop();
  });
});
