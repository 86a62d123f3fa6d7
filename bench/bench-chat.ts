/**
 * A chat adapter for benchmarks: the bench types lines as the lab's operator (console:operator, who holds every
 * role in the lab config) and keeps what rekick says, without a terminal. Nothing is printed.
 */
import type { ChatAdapter, MessageHandler, OutgoingMessage } from '../src/chat/chat-adapter';
import type { Identity, Origin } from '../src/model';

export interface BenchChat extends ChatAdapter {
  /** Hands a line to rekick as the operator typed it; resolves once rekick has handled it. */
  say(text: string): Promise<void>;
  readonly sent: OutgoingMessage[];
}

export function createBenchChat(options: { room?: string; keep?: number } = {}): BenchChat {
  const origin: Origin = { adapter: 'console', room: options.room ?? '#bench' };
  const user: Identity = { source: 'console', id: 'operator', display: 'bench' };
  const keep = options.keep ?? 200;
  const sent: OutgoingMessage[] = [];
  let handler: MessageHandler | undefined;
  return {
    name: 'console',
    sent,
    async start(onMessage) {
      handler = onMessage;
    },
    async stop() {
      handler = undefined;
    },
    async send(_target, message) {
      sent.push(message);
      if (sent.length > keep) sent.splice(0, sent.length - keep);
    },
    async say(text) {
      if (!handler) throw new Error('bench chat is not started');
      await handler({ origin, user, text });
    },
    noticeRooms: () => [origin],
    isReady: () => handler !== undefined,
  };
}
