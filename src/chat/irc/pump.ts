/**
 * The IRC pump: writes what waits, within the pace (urgent lines first, then WHOIS, then the other lines), and
 * puts a message's lines in the outbox. WHOIS go once registered; rekick's own lines once ready.
 */
import type { OutgoingMessage } from '../chat-adapter';
import { outboxKind, progressState } from './outbox-kind';
import type { OutboxLine } from './outbox';
import { later, type IrcState } from './state';
import { ircLines } from './text';

export const UNCONFIRMED_EXPIRY_MS = 30_000;

/** Writes what waits, within the pace; when the pace is taken, looks again when it allows a line. */
export function pump(state: IrcState): void {
  const { outbox, pacer, log } = state;
  if (state.pumpTimer) {
    clearTimeout(state.pumpTimer);
    state.timers.delete(state.pumpTimer);
    state.pumpTimer = undefined;
  }
  const client = state.client;
  if (!state.registered || !client) return;
  if (state.ready) {
    for (const line of outbox.expire(state.now(), UNCONFIRMED_EXPIRY_MS)) {
      log.warn({ target: line.target }, 'IRC server did not echo a line within 30s; counted as sent (is rekick allowed to speak there?)');
    }
  }
  for (;;) {
    const lines = state.ready && outbox.waiting > 0 && outbox.unconfirmed < state.window;
    const asks = state.whois?.sendable() ?? false;
    if (!lines && !asks) break;
    if (!pacer.tryTake()) {
      state.pumpTimer = later(state, Math.max(pacer.waitMs(), 10), () => pump(state));
      return;
    }
    if (asks && !(lines && outbox.urgentWaiting > 0)) {
      state.whois!.sendNext();
      continue;
    }
    const line = outbox.take(state.now())!;
    client.raw(`PRIVMSG ${line.target} :${line.text}`);
    if (!state.echo) {
      outbox.confirmWritten(line);
      state.stats.delivered += 1;
    }
  }
  // Waiting for echoes: look again when an unconfirmed line would expire.
  if (outbox.unconfirmed > 0) state.pumpTimer = later(state, UNCONFIRMED_EXPIRY_MS + 100, () => pump(state));
}

/** Puts a message's lines for `room` in the outbox (a lone progress line may be summarised in a backlog). */
export function enqueue(state: IrcState, room: string, message: OutgoingMessage): void {
  const texts = ircLines(message.text, state.currentNick, room);
  if (!texts.length) return;
  const progress = texts.length === 1 ? progressState(message) : undefined;
  const how = outboxKind(message);
  const lines: OutboxLine[] = texts.map((text) => ({
    target: room,
    text,
    progress,
    ...(how.kind === 'urgent' ? { urgent: true, host: how.host, state: how.state } : how.kind === 'reply' ? { reply: true } : {}),
  }));
  state.outbox.push(lines);
  state.stats.summarised = state.outbox.summarised;
  pump(state);
}

/** Marks the adapter ready (logged in, channels joined or given up on): wakes start() and the outbox. */
export function setReady(state: IrcState): void {
  if (state.ready || !state.registered) return;
  state.ready = true;
  state.log.info({ channels: state.config.channels, nick: state.currentNick }, 'IRC ready');
  const waiters = state.readyWaiters;
  state.readyWaiters = [];
  for (const w of waiters) w();
  pump(state);
}
