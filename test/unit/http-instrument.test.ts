import { describe, expect, it } from 'vitest';
import { chatQueueDepth, countChatSends } from '../../src/http/instrument';
import type { ChatAdapter } from '../../src/chat/chat-adapter';

describe('metrics instrumentation', () => {
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
