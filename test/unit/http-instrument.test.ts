import { describe, expect, it } from 'vitest';
import { chatQueueDepth, countChatSends, countKojiErrors } from '../../src/http/instrument';
import type { ChatAdapter } from '../../src/chat/chat-adapter';
import { FakeKoji } from '../fakes/fake-koji';

describe('metrics instrumentation', () => {
  it('counts failed Koji calls by method and passes results and errors through unchanged', async () => {
    const fake = new FakeKoji();
    fake.addHost('b1');
    const errors: string[] = [];
    const koji = countKojiErrors(fake, (m) => errors.push(m));
    expect((await koji.getHost('b1'))?.name).toBe('b1');
    const boom = new Error('hub down');
    fake.failNext.set('disableHost', boom);
    await expect(koji.disableHost('b1')).rejects.toBe(boom);
    expect(errors).toEqual(['disableHost']);
    expect(koji.hosts).toBe(fake.hosts); // non-function members are the client's own
  });

  it('counts chat sends per adapter and reads outbox depths', async () => {
    const sent: string[] = [];
    const irc = { name: 'irc', send: async () => undefined, stats: () => ({ queued: 7 }) } as unknown as ChatAdapter;
    const console_ = { name: 'console', send: async () => undefined } as unknown as ChatAdapter;
    countChatSends(irc, (a) => sent.push(a));
    await irc.send({ adapter: 'irc', room: '#b' }, { kind: 'reply', text: 'x' });
    await irc.send({ adapter: 'irc', room: '#b' }, { kind: 'notice', text: 'y' });
    expect(sent).toEqual(['irc', 'irc']);
    expect(chatQueueDepth([irc, console_])).toEqual({ irc: 7 });
  });
});
