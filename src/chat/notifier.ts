/**
 * The notifier: renders every executor event and sends it to the job's origin (same adapter, room and thread)
 * and to every adapter's notice rooms, each room once (the origin room keeps its thread). Sends to one adapter
 * go in order; an adapter's error is logged and never escapes.
 */
import type { Logger } from 'pino';
import type { ExecutorApi } from '../executor/types';
import type { ExecutorEvent, Origin } from '../model';
import type { ApprovalPrompts } from './approval-prompts';
import type { ChatAdapter, OutgoingMessage } from './chat-adapter';
import { renderEvent } from '../present/event-lines';

export interface NotifierOptions {
  executor: Pick<ExecutorApi, 'on'>;
  adapters: readonly ChatAdapter[];
  log: Logger;
  /** Renders an event (default renderEvent); lines are joined with \n into one message. */
  render?: (event: ExecutorEvent) => string[];
  /** Told when a job's ready line is handed to a chat, and when the job is decided on (for `!approve all`). */
  prompts?: ApprovalPrompts;
}

export interface Notifier {
  /** Stops listening to the executor. */
  stop(): void;
  /** Resolves when every send queued so far has finished (tests, shutdown). */
  flush(): Promise<void>;
}

/** The rooms an event goes to: its origin first, then notice rooms not already covered. */
export function eventTargets(event: ExecutorEvent, adapters: readonly ChatAdapter[]): Origin[] {
  const origin = 'job' in event ? event.job.origin : event.origin;
  const targets: Origin[] = [];
  const seen = new Set<string>();
  const add = (o: Origin) => {
    const key = `${o.adapter}\u0000${o.room}`;
    if (seen.has(key)) return;
    seen.add(key);
    targets.push(o);
  };
  if (origin && adapters.some((a) => a.name === origin.adapter)) add(origin);
  for (const a of adapters) {
    let rooms: Origin[] = [];
    try {
      rooms = a.noticeRooms();
    } catch {
      rooms = [];
    }
    for (const r of rooms) add({ ...r, adapter: r.adapter || a.name });
  }
  return targets;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { adapters, log } = options;
  const render = options.render ?? renderEvent;
  const chains = new Map<string, Promise<void>>();

  const enqueue = (adapter: ChatAdapter, target: Origin, message: OutgoingMessage) => {
    const prev = chains.get(adapter.name) ?? Promise.resolve();
    const next = prev.then(async () => {
      try {
        // Handed to a chat now: from here on someone may have seen it (before, nobody could have).
        if (message.event?.type === 'awaiting-approval') options.prompts?.announced(message.event.job.id);
        await adapter.send(target, message);
      } catch (err) {
        log.error({ err, adapter: adapter.name, room: target.room, event: message.event?.type }, 'could not send to chat');
      }
    });
    chains.set(adapter.name, next);
  };

  const onEvent = (event: ExecutorEvent) => {
    if (event.type === 'approved' || event.type === 'denied' || event.type === 'cancelled') options.prompts?.forget(event.job.id);
    let lines: string[];
    try {
      lines = render(event);
    } catch (err) {
      log.error({ err, event: event.type }, 'could not render event');
      return;
    }
    if (!lines.length) return;
    const message: OutgoingMessage = { text: lines.join('\n'), kind: event.type === 'notice' ? 'notice' : 'progress', event };
    for (const target of eventTargets(event, adapters)) {
      const adapter = adapters.find((a) => a.name === target.adapter);
      if (!adapter) continue;
      enqueue(adapter, target, message);
    }
  };

  const unsubscribe = options.executor.on(onEvent);
  return {
    stop: unsubscribe,
    async flush() {
      // Chains may grow while we wait: wait until they stop changing.
      for (;;) {
        const pending = [...chains.values()];
        await Promise.all(pending);
        if ([...chains.values()].every((p, i) => p === pending[i]) && chains.size === pending.length) return;
      }
    },
  };
}
