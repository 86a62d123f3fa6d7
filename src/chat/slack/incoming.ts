/**
 * What reaches rekick from Slack, as ChatMessages for the router: channel messages starting with `!`, direct
 * messages, mentions, the /rekick slash command and Approve/Deny clicks (each acting on the job its button was
 * posted for only).
 */
import type { App } from '@slack/bolt';
import type { Origin } from '../../model';
import type { ChatMessage } from '../chat-adapter';
import { mentionCommand, messageCommand, slashCommand } from './addressing';
import { APPROVE_ACTION, DENY_ACTION, parseButtonValue } from './blocks';
import { refreshClicked } from './parent-messages';
import { arrivedAt } from './receiver';
import { identity, type SlackState } from './state';

/** Registers the handlers of messages, mentions, the slash command and the buttons. */
export function onIncoming(state: SlackState, a: App): void {
  onMessages(state, a);
  onSlashCommand(state, a);
  for (const [actionId, verb] of [
    [APPROVE_ACTION, 'approve'],
    [DENY_ACTION, 'deny'],
  ] as const) {
    onButton(state, a, actionId, verb);
  }
}

/** Hands a message to the router; its failure is logged, never thrown back into Bolt. */
async function handle(state: SlackState, message: ChatMessage): Promise<void> {
  if (!state.onMessage) return;
  try {
    await state.onMessage(message);
  } catch (err) {
    state.log.error({ err, room: message.origin.room }, 'handling a Slack message failed');
  }
}

function onMessages(state: SlackState, a: App): void {
  a.message(async ({ message, context }) => {
    const m = message as { subtype?: string; text?: string; user?: string; channel: string; channel_type?: string; thread_ts?: string; bot_id?: string };
    if (m.subtype || m.bot_id || !m.user || !m.text) return;
    const direct = m.channel_type === 'im';
    const text = messageCommand(m.text, direct);
    if (text === undefined) return;
    const origin: Origin = direct ? { adapter: 'slack', room: m.channel, private: true } : { adapter: 'slack', room: m.channel, thread: m.thread_ts };
    await handle(state, { origin, user: identity(state, m.user), text, receivedAt: arrivedAt(state, context) });
  });

  a.event('app_mention', async ({ event, context }) => {
    if (!event.user) return;
    const text = mentionCommand(event.text);
    // `!cmd @rekick` starts with `!`: the message event has it already.
    if (!text || event.text.trim().startsWith('!')) return;
    await handle(state, { origin: { adapter: 'slack', room: event.channel, thread: event.thread_ts }, user: identity(state, event.user), text, receivedAt: arrivedAt(state, context) });
  });
}

function onSlashCommand(state: SlackState, a: App): void {
  a.command('/rekick', async ({ command, ack, context }) => {
    await ack();
    await handle(state, {
      origin: { adapter: 'slack', room: command.channel_id },
      user: identity(state, command.user_id, command.user_name),
      text: slashCommand(command.text),
      isSlashCommand: true,
      receivedAt: arrivedAt(state, context),
    });
  });
}

/** A click on Approve or Deny: `!approve HOST` / `!deny HOST` for the job the button was posted for. */
function onButton(state: SlackState, a: App, actionId: string, verb: 'approve' | 'deny'): void {
  a.action(actionId, async ({ ack, body, action, context }) => {
    await ack();
    const receivedAt = arrivedAt(state, context);
    const b = body as { user: { id: string; username?: string; name?: string }; channel?: { id: string }; message?: { ts: string; thread_ts?: string } };
    const clicked = parseButtonValue((action as { value?: string }).value);
    if (!b.channel) return;
    if (!clicked) {
      state.log.warn({ action: actionId, user: b.user.id }, 'a Slack button click whose value rekick did not write; ignored');
      return;
    }
    const origin: Origin = { adapter: 'slack', room: b.channel.id, thread: b.message?.ts };
    state.clickOrigins.set(origin, b.user.id);
    // The command acts on the job the button was posted for only (a button naming no job is refused).
    await handle(state, {
      origin,
      user: identity(state, b.user.id, b.user.username ?? b.user.name),
      text: `!${verb} ${clicked.host}`,
      interactive: true,
      button: { jobId: clicked.jobId },
      receivedAt,
    });
    if (clicked.jobId && b.message?.ts) await refreshClicked(state, clicked.jobId, b.channel.id, b.message.ts);
  });
}
