/**
 * The Bolt app behind the receiver: Slack's HTTP receiver (arrival times handed to handlers as context), the
 * bot's token given by `authorize` (no auth.test at construction, so a Web API that is down cannot crash rekick)
 * and the handlers of incoming events (incoming.ts).
 */
import { App, HTTPReceiver } from '@slack/bolt';
import { boltLogger } from './bolt-logger';
import { onIncoming } from './incoming';
import { RECEIVED_AT } from './receiver';
import { whoAmI, type SlackState } from './state';
import { SLACK_EVENTS_PATH } from './types';

export function buildApp(state: SlackState): App {
  const { config, options, log } = state;
  state.receiver = new HTTPReceiver({
    signingSecret: config.signingSecret,
    endpoints: [SLACK_EVENTS_PATH],
    processBeforeResponse: options.processBeforeResponse ?? false,
    logger: boltLogger(log),
    customPropertiesExtractor: (req) => ({ [RECEIVED_AT]: state.arrivals.get(req) }),
  });
  const a = new App({
    receiver: state.receiver,
    // authorize instead of token: no auth.test in the constructor, so a Web API that is down cannot crash us.
    authorize: async () => {
      await whoAmI(state, a.client);
      return { botToken: config.token, botId: state.botId, botUserId: state.botUserId };
    },
    logger: boltLogger(log),
    clientOptions: {
      slackApiUrl: config.apiUrl,
      retryConfig: options.retryConfig,
    },
  });
  onIncoming(state, a);
  a.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'Slack handler error');
  });
  return a;
}
