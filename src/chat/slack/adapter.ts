/**
 * The Slack adapter (@slack/bolt over HTTP): its receiver (receiver.ts) serves /slack/events alone, rekick's
 * public face, with every request checked by the request guard first; the Bolt app (app.ts) turns messages,
 * mentions, the /rekick slash command and Approve/Deny clicks into ChatMessages (incoming.ts); each job gets one
 * parent message per channel, its step lines in the thread (parent-messages.ts).
 */
import type { MessageHandler } from '../chat-adapter';
import { buildApp } from './app';
import { parentOf, sendToSlack } from './parent-messages';
import { openReceiver, receiverPort, slackRequestListener } from './receiver';
import { createSlackState, whoAmI, type SlackState } from './state';
import type { SlackAdapter, SlackAdapterOptions } from './types';

export { SLACK_EVENTS_PATH, type SlackAdapter, type SlackAdapterOptions, type SlackConfig } from './types';

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const state = createSlackState(options);
  const requestListener = slackRequestListener(state);
  return {
    name: 'slack',
    listen: () => openReceiver(state, requestListener),
    // One message per reply: a longer list than this is summarised in a channel, paged in a direct message.
    replyLines: { room: 25, private: 50 },
    start: (handler) => start(state, handler, requestListener),
    stop: () => stop(state),
    send: (target, message) => sendToSlack(state, target, message),
    noticeRooms() {
      return state.config.channels.map((room) => ({ adapter: 'slack', room }));
    },
    isReady() {
      return state.ready;
    },
    port: () => receiverPort(state),
    requestListener,
    parentOf: (jobId, channel) => parentOf(state, jobId, channel),
    sendChains() {
      return state.chains.size;
    },
  };
}

async function start(state: SlackState, handler: MessageHandler, requestListener: SlackAdapter['requestListener']): Promise<void> {
  state.onMessage = handler;
  state.app = buildApp(state);
  await openReceiver(state, requestListener);
  state.ready = true;
  void whoAmI(state, state.app.client);
}

async function stop(state: SlackState): Promise<void> {
  state.ready = false;
  await state.chains.idle();
  const s = state.server;
  state.receiver = undefined;
  state.app = undefined;
  state.server = undefined;
  if (s) {
    await new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  }
}
