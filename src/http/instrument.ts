/** Counting what crosses rekick's edges for /metrics: Koji calls that fail, chat messages sent and queued. */
import type { ChatAdapter } from '../chat/chat-adapter';
import type { KojiClient } from '../koji/types';

/** The same client, with every method's rejection reported (by method) before it reaches the caller. */
export function countKojiErrors<T extends KojiClient>(koji: T, onError: (method: string) => void): T {
  return new Proxy(koji, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            onError(prop);
            throw err;
          });
        }
        return result;
      };
    },
  });
}

/** Counts each message handed to the adapter (replies, progress and notices alike). */
export function countChatSends(adapter: ChatAdapter, onSend: (adapter: string) => void): void {
  const send = adapter.send.bind(adapter);
  adapter.send = (target, message) => {
    onSend(adapter.name);
    return send(target, message);
  };
}

/** Messages waiting in each adapter that keeps an outbox (IRC: paced or disconnected). */
export function chatQueueDepth(adapters: readonly ChatAdapter[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of adapters) {
    const stats = (a as ChatAdapter & { stats?: () => { queued?: number } }).stats?.();
    if (stats && typeof stats.queued === 'number') out[a.name] = stats.queued;
  }
  return out;
}
