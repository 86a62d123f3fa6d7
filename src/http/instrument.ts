/** Counting chat messages sent and queued for /metrics (failed Koji calls: the Koji client's onCall, wired in main.ts). */
import type { ChatAdapter } from '../chat/chat-adapter';

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
