/**
 * The IRC adapter with a fake client: on a server without account-tag the services account comes from WHOIS
 * (never the nick); without echo-message a written line counts as sent; its own lines are not commands.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';

function setup(caps: string[]) {
  const fake = new FakeIrcClient();
  fake.caps = caps;
  const adapter = fakeIrcAdapter(fake, { channels: ['#b'] });
  return { fake, adapter };
}

describe('IRC adapter identity without account-tag', () => {
  it('asks WHOIS for the account; a nick without one has no id', async () => {
    const { fake, adapter } = setup([]);
    const got: ChatMessage[] = [];
    await adapter.start((m) => {
      got.push(m);
    });
    expect(adapter.isReady()).toBe(true);
    fake.arrive({ nick: 'nirik', ident: 'nirik', hostname: 'fedora/nirik', account: 'nirik-account' });
    fake.arrive({ nick: 'impostor', ident: 'imp', hostname: 'evil.example' });
    fake.arrive({ nick: 'rekick', ident: 'rekick', hostname: 'bot.example' });
    fake.say('nirik', '#b', '!approve h1');
    fake.say('impostor', '#b', '!approve h2');
    fake.say('rekick', '#b', '!approve h3');
    await new Promise((r) => setTimeout(r, 50));
    expect(got.map((m) => [m.text, m.user.id, m.user.display])).toEqual([
      ['!approve h1', 'nirik-account', 'nirik'],
      ['!approve h2', undefined, 'impostor'],
    ]);
    await adapter.stop();
  });

  it('trusts the tag when the server tags messages: no tag means not logged in (no WHOIS)', async () => {
    const { fake, adapter } = setup(['account-tag']);
    const got: ChatMessage[] = [];
    await adapter.start((m) => {
      got.push(m);
    });
    fake.arrive({ nick: 'nirik', ident: 'nirik', hostname: 'fedora/nirik', account: 'would-be-wrong' });
    fake.emit('privmsg', { nick: 'nirik', ident: 'nirik', hostname: 'fedora/nirik', target: '#b', message: '!approve h1', tags: {} });
    fake.emit('privmsg', { nick: 'nirik', ident: 'nirik', hostname: 'fedora/nirik', target: '#b', message: '!approve h2', tags: {}, account: 'nirik' });
    await new Promise((r) => setTimeout(r, 50));
    expect(got.map((m) => m.user.id)).toEqual([undefined, 'nirik']);
    expect(fake.written.filter((l) => l.startsWith('WHOIS'))).toEqual([]);
    await adapter.stop();
  });

  it('writes PRIVMSG lines with a colon, and counts them sent without echo-message', async () => {
    const { fake, adapter } = setup([]);
    await adapter.start(() => undefined);
    await adapter.send({ adapter: 'irc', room: '#b' }, { kind: 'reply', text: ':starts with a colon\nsecond' });
    expect(fake.written.filter((l) => l.startsWith('PRIVMSG'))).toEqual(['PRIVMSG #b ::starts with a colon', 'PRIVMSG #b :second']);
    expect(adapter.stats().delivered).toBe(2);
    expect(adapter.stats().queued).toBe(0);
    await adapter.stop('bye');
    expect(adapter.isReady()).toBe(false);
  });

  it('while its nick is taken (rekick_), lines addressed to the configured nick still count', async () => {
    const { fake, adapter } = setup(['account-tag']);
    fake.registeredAs = 'rekick_';
    const got: ChatMessage[] = [];
    await adapter.start((m) => {
      got.push(m);
    });
    expect(adapter.nick()).toBe('rekick_');
    fake.emit('privmsg', { nick: 'kevin', target: '#b', message: 'rekick: status', tags: {}, account: 'kevin' });
    fake.emit('privmsg', { nick: 'kevin', target: '#b', message: 'rekick_, queue', tags: {}, account: 'kevin' });
    fake.emit('nick', { nick: 'rekick_', new_nick: 'rekick' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got.map((m) => m.text)).toEqual(['!status', '!queue']);
    expect(adapter.nick()).toBe('rekick');
    await adapter.stop();
  });
});
