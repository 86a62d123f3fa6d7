/**
 * A Slack line carries when its request reached rekick (`receivedAt`), taken before anything else looks at the
 * request (body, signature, Bolt's authorisation, which may call auth.test first): `!approve all` counts only the
 * jobs announced by then. The adapter's clock here moves on by 1 ms at each reading, so the arrival stamp is the
 * first reading during a request and any later stamp differs from it. Real HTTP, signed requests, the Web API
 * stand-in.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/adapter';
import { clickBody, eventBody, postToBot, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';
import { until } from '../support/until';

const SECRET = 'test-signing-secret-0123456789';
const CHANNEL = 'C0BUILDERS';
let api: SlackApiStandIn;
let slack: SlackAdapter;
let url: string;
const received: ChatMessage[] = [];
/** The adapter's clock: the next reading (ms), 1 ms later at each. */
let clock = Date.now();

beforeAll(async () => {
  api = await startSlackApi();
  slack = createSlackAdapter({
    config: { signingSecret: SECRET, token: 'xoxb-test-token', host: '127.0.0.1', port: 0, apiUrl: api.url, channels: [CHANNEL] },
    log: pino({ level: 'silent' }),
    listenHost: '127.0.0.1',
    retryConfig: { retries: 0 },
    processBeforeResponse: true,
    now: () => new Date(clock++),
  });
  await slack.start(async (m) => {
    received.push(m);
  });
  url = `http://127.0.0.1:${slack.port()}/slack/events`;
  await api.waitFor((c) => c.method === 'auth.test');
});

afterAll(async () => {
  await slack?.stop();
  await api?.close();
});

/** Posts a request and returns the line it became, with the clock's reading when the request was sent. */
async function lineOf(body: string, type: 'application/json' | 'application/x-www-form-urlencoded', text: string): Promise<{ line: ChatMessage; sentAt: number }> {
  const sentAt = clock;
  const r = await postToBot(url, SECRET, body, type);
  expect(r.status).toBe(200);
  await until(() => received.some((m) => m.text === text), text, 5000, () => JSON.stringify(received));
  return { line: received.find((m) => m.text === text)!, sentAt };
}

describe('Slack lines carry the time their request arrived', () => {
  it('a channel message, a slash command and a click: the first reading of the clock for the request', async () => {
    const message = await lineOf(eventBody({ user: 'U0NIRIK', channel: CHANNEL, text: '!approve all' }), 'application/json', '!approve all');
    expect(message.line.receivedAt?.getTime()).toBe(message.sentAt);

    const slash = await lineOf(slashBody({ user: 'U0NIRIK', channel: CHANNEL, text: 'queue', responseUrl: api.responseUrl('s') }), 'application/x-www-form-urlencoded', '!queue');
    expect(slash.line.receivedAt?.getTime()).toBe(slash.sentAt);

    const value = JSON.stringify({ job: 'j-0042', host: 'buildarm-03' });
    const click = await lineOf(
      clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: '1700000000.000001', actionId: 'rekick_approve', value, responseUrl: api.responseUrl('c') }),
      'application/x-www-form-urlencoded',
      '!approve buildarm-03',
    );
    expect(click.line.receivedAt?.getTime()).toBe(click.sentAt);
  });
});
