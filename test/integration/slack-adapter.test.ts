/**
 * The Slack adapter over real HTTP: Bolt's receiver on a free port, signed requests as Slack sends them, and
 * the Web API answered by a local stand-in that records every call.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/adapter';
import { STEP_NAMES, type ExecutorEvent, type Job } from '../../src/model';
import { clickBody, eventBody, postToBot, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';
import { until } from '../support/until';

const SECRET = 'test-signing-secret-0123456789';
const CHANNEL = 'C0BUILDERS';
let api: SlackApiStandIn;
let slack: SlackAdapter;
let url: string;
const received: ChatMessage[] = [];

async function waitForMessage(pred: (m: ChatMessage) => boolean, timeoutMs = 5000): Promise<ChatMessage> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = received.find(pred);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no matching message; got ${JSON.stringify(received)}`);
}

function job(state: Job['state'], current: number): Job {
  const at = new Date(Date.now() - 60_000).toISOString();
  return {
    id: 'j-0042',
    host: 'buildarm-03',
    state,
    createdAt: at,
    updatedAt: at,
    requestedBy: { source: 'slack', id: 'U0KEVIN', display: 'kevin' },
    origin: { adapter: 'slack', room: CHANNEL },
    options: {},
    steps: STEP_NAMES.map((name, i) => ({
      name,
      status: i < current ? 'succeeded' : i === current && state === 'running' ? 'running' : 'pending',
      attempts: i <= current ? 1 : 0,
      startedAt: i <= current ? at : undefined,
      durationMs: i < current ? 1200 * (i + 1) : undefined,
    })),
    current,
    data: {},
  };
}

beforeAll(async () => {
  api = await startSlackApi();
  slack = createSlackAdapter({
    config: { signingSecret: SECRET, token: 'xoxb-test-token', host: '127.0.0.1', port: 0, apiUrl: api.url, channels: [CHANNEL, 'C0OTHER'] },
    log: pino({ level: 'silent' }),
    listenHost: '127.0.0.1',
    retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 100 },
    processBeforeResponse: true,
  });
  await slack.start(async (m) => {
    received.push(m);
  });
  url = `http://127.0.0.1:${slack.port()}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await api?.close();
});

describe('Slack adapter: requests from Slack', () => {
  it('accepts a correctly signed channel message starting with ! (and a thread reply keeps its thread)', async () => {
    const r = await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!status buildarm-03' }), 'application/json');
    expect(r.status).toBe(200);
    const m = await waitForMessage((x) => x.text === '!status buildarm-03');
    expect(m.user).toEqual({ source: 'slack', id: 'U0KEVIN', display: 'U0KEVIN' });
    expect(m.origin).toEqual({ adapter: 'slack', room: CHANNEL, thread: undefined });
    await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!queue', thread_ts: '1700000000.000001' }), 'application/json');
    const t = await waitForMessage((x) => x.text === '!queue');
    expect(t.origin.thread).toBe('1700000000.000001');
  });

  it('takes a mention as a command and ignores chatter', async () => {
    await postToBot(url, SECRET, eventBody({ type: 'app_mention', user: 'U0KEVIN', channel: CHANNEL, text: '<@U0REKICK> hosts' }), 'application/json');
    await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: 'lunch anyone?' }), 'application/json');
    await waitForMessage((x) => x.text === '!hosts');
    expect(received.some((x) => x.text.includes('lunch'))).toBe(false);
  });

  it('hands on every direct message to the bot, as a private command', async () => {
    await postToBot(url, SECRET, eventBody({ user: 'U0KEVIN', channel: 'D0KEVIN', text: 'whoami', channelType: 'im' }), 'application/json');
    const m = await waitForMessage((x) => x.text === '!whoami');
    expect(m.origin).toEqual({ adapter: 'slack', room: 'D0KEVIN', private: true });
  });

  it('refuses a bad signature and a stale timestamp with 401, handing nothing on', async () => {
    const before = received.length;
    const bad = await postToBot(url, SECRET, eventBody({ user: 'U0EVIL', channel: CHANNEL, text: '!approve all' }), 'application/json', { secret: 'wrong-secret' });
    expect(bad.status).toBe(401);
    const stale = await postToBot(url, SECRET, eventBody({ user: 'U0EVIL', channel: CHANNEL, text: '!approve all' }), 'application/json', {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    const slashBad = await postToBot(url, SECRET, slashBody({ user: 'U0EVIL', channel: CHANNEL, text: 'approve all', responseUrl: api.responseUrl('x') }), 'application/x-www-form-urlencoded', { secret: 'nope' });
    expect(slashBad.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.length).toBe(before);
  });

  it('answers url_verification when signed', async () => {
    const r = await postToBot(url, SECRET, JSON.stringify({ type: 'url_verification', challenge: 'chal-123', token: 'x' }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.text).toContain('chal-123');
  });

  it('turns the /rekick slash command into a command from that user, and a reply goes to the channel', async () => {
    const r = await postToBot(url, SECRET, slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: CHANNEL, text: 'reinstall buildarm-03', responseUrl: api.responseUrl('s1') }), 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    const m = await waitForMessage((x) => x.text === '!reinstall buildarm-03');
    expect(m.isSlashCommand).toBe(true);
    expect(m.user).toEqual({ source: 'slack', id: 'U0KEVIN', display: 'kevin' });
    await slack.send(m.origin, { kind: 'reply', text: 'queued buildarm-03 (job j-0042)' });
    const post = await api.waitFor((c) => c.method === 'chat.postMessage' && c.args.text === 'queued buildarm-03 (job j-0042)');
    expect(post.args.channel).toBe(CHANNEL);
    expect(post.token).toBe('xoxb-test-token');
    // A refusal of a slash command is private to its author.
    await slack.send(m.origin, { kind: 'reply', text: 'refused: no such host', ephemeralTo: m.user });
    const eph = await api.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.text === 'refused: no such host');
    expect(eph.args).toMatchObject({ channel: CHANNEL, user: 'U0KEVIN' });
  });
});

describe('Slack adapter: a job\'s parent message, its thread and the approval buttons', () => {
  const send = (event: ExecutorEvent, text: string, room = CHANNEL) => slack.send({ adapter: 'slack', room }, { kind: 'progress', event, text });

  it('posts one parent per channel, updates it in place, and threads every step line', async () => {
    await send({ type: 'job-queued', job: job('queued', 0) }, 'buildarm-03 queued by kevin');
    await send({ type: 'step-started', job: job('running', 0), step: 'disable', index: 0 }, 'buildarm-03 [1/8] disable started');
    await send({ type: 'step-succeeded', job: job('running', 1), step: 'disable', index: 0, durationMs: 1200 }, 'buildarm-03 [1/8] disable done in 1.2s');
    await send({ type: 'step-started', job: job('running', 1), step: 'disable', index: 0 }, 'buildarm-03 [2/8] drain started', 'C0OTHER');

    const parents = api.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts && String(c.args.text).startsWith('reinstall of buildarm-03'));
    expect(parents.map((c) => c.args.channel)).toEqual([CHANNEL, 'C0OTHER']);
    const parent = slack.parentOf('j-0042', CHANNEL)!;
    const thread = api.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === parent.ts).map((c) => c.args.text);
    expect(thread).toEqual(['buildarm-03 queued by kevin', 'buildarm-03 [1/8] disable started', 'buildarm-03 [1/8] disable done in 1.2s']);
    const updates = api.callsOf('chat.update').filter((c) => c.args.ts === parent.ts);
    expect(updates.length).toBe(2);
    const table = JSON.stringify(updates[updates.length - 1]!.args.blocks);
    expect(table).toMatch(/1\/8 disable\s+ok\s+1\.2s/);
    expect(table).toMatch(/2\/8 drain\s+running/);
    expect(table).not.toContain('rekick_approve');
  });

  it('shows Approve and Deny buttons bound to the job (its id and host) while awaiting approval, and removes them after', async () => {
    await send({ type: 'awaiting-approval', job: job('awaiting-approval', 7) }, 'buildarm-03 is ready: !approve buildarm-03');
    const parent = slack.parentOf('j-0042', CHANNEL)!;
    const last = api.callsOf('chat.update').filter((c) => c.args.ts === parent.ts).pop()!;
    const actions = (last.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => [e.action_id, JSON.parse(e.value)])).toEqual([
      ['rekick_approve', { job: 'j-0042', host: 'buildarm-03' }],
      ['rekick_deny', { job: 'j-0042', host: 'buildarm-03' }],
    ]);
    expect(last.args.text).toContain('!approve buildarm-03');

    const done = { ...job('succeeded', 7), steps: job('succeeded', 8).steps };
    await send({ type: 'enabled', job: done }, 'buildarm-03 [8/8] enable done; enabled in Koji');
    const after = api.callsOf('chat.update').filter((c) => c.args.ts === parent.ts).pop()!;
    expect(JSON.stringify(after.args.blocks)).not.toContain('rekick_approve');
  });

  it('a click becomes !approve HOST bound to the button\'s job, from the clicker; a reply to it is ephemeral; two clicks do not crash', async () => {
    const parent = slack.parentOf('j-0042', CHANNEL)!;
    const value = JSON.stringify({ job: 'j-0042', host: 'buildarm-03' });
    const click = () =>
      postToBot(url, SECRET, clickBody({ user: 'U0RANDO', userName: 'rando', channel: CHANNEL, messageTs: parent.ts, actionId: 'rekick_approve', value, responseUrl: api.responseUrl('c1') }), 'application/x-www-form-urlencoded');
    expect((await click()).status).toBe(200);
    expect((await click()).status).toBe(200);
    const clicks = received.filter((m) => m.text === '!approve buildarm-03');
    expect(clicks.length).toBe(2);
    expect(clicks[0]).toMatchObject({
      interactive: true,
      button: { jobId: 'j-0042' },
      user: { source: 'slack', id: 'U0RANDO', display: 'rando' },
      origin: { adapter: 'slack', room: CHANNEL, thread: parent.ts },
    });
    expect(clicks[0]!.receivedAt).toBeInstanceOf(Date);
    // The router replies to the click's origin: the refusal goes privately to the clicker only.
    await slack.send(clicks[0]!.origin, { kind: 'reply', text: 'refused: rando is not an approver' });
    const eph = await api.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.text === 'refused: rando is not an approver');
    expect(eph.args).toMatchObject({ channel: CHANNEL, user: 'U0RANDO' });
    expect(api.callsOf('chat.postMessage').some((c) => c.args.text === 'refused: rando is not an approver')).toBe(false);

    const deny = await postToBot(url, SECRET, clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: parent.ts, actionId: 'rekick_deny', value, responseUrl: api.responseUrl('c2') }), 'application/x-www-form-urlencoded');
    expect(deny.status).toBe(200);
    const denied = await waitForMessage((m) => m.text === '!deny buildarm-03' && m.user.id === 'U0NIRIK');
    expect(denied.button).toEqual({ jobId: 'j-0042' });

    // A button posted before buttons named their job carries the host only: the click says so (no job), and the
    // command refuses it; a value rekick did not write is ignored.
    await postToBot(url, SECRET, clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: parent.ts, actionId: 'rekick_approve', value: 'buildarm-01', responseUrl: api.responseUrl('c3') }), 'application/x-www-form-urlencoded');
    const old = await waitForMessage((m) => m.text === '!approve buildarm-01');
    expect(old.button).toEqual({ jobId: undefined });
    const before = received.length;
    await postToBot(url, SECRET, clickBody({ user: 'U0NIRIK', channel: CHANNEL, messageTs: parent.ts, actionId: 'rekick_approve', value: '{"host":"buildarm-01; !reinstall all"}', responseUrl: api.responseUrl('c4') }), 'application/x-www-form-urlencoded');
    expect(received.length).toBe(before);
  });

  it('escapes <, > and & so text from hosts cannot mention @channel or forge links', async () => {
    await slack.send({ adapter: 'slack', room: CHANNEL }, { kind: 'reply', text: 'output: <!channel> & <http://evil|click>' });
    const post = await api.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).startsWith('output:'));
    expect(post.args.text).toBe('output: &lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
  });

  it("forgets each job's send chain once its sends are done (the map returns to empty)", async () => {
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) {
      const j = { ...job('running', 1), id: `j-chain-${i}`, host: `buildarm-${i}` };
      for (const room of [CHANNEL, 'C0OTHER']) {
        sends.push(send({ type: 'step-started', job: j, step: 'drain', index: 1 }, `buildarm-${i} [2/8] drain started`, room));
        sends.push(send({ type: 'step-succeeded', job: j, step: 'drain', index: 1, durationMs: 1000 }, `buildarm-${i} [2/8] drain done`, room));
      }
    }
    expect(slack.sendChains()).toBe(40);
    await Promise.all(sends);
    await until(() => slack.sendChains() === 0, 'the send chains to be forgotten', 5000);
  });

  it('a rate-limited Web API call is retried after Retry-After, not lost', async () => {
    api.rateLimit('chat.postMessage', 1, 1);
    await slack.send({ adapter: 'slack', room: CHANNEL }, { kind: 'notice', text: 'rolling run paused after 2 failures' });
    const post = await api.waitFor((c) => c.method === 'chat.postMessage' && c.args.text === 'rolling run paused after 2 failures');
    expect(post.args.channel).toBe(CHANNEL);
  });
});

describe('Slack adapter start-up', () => {
  it('starts, and stays up, when the Web API does not answer', async () => {
    const down = createSlackAdapter({
      config: { signingSecret: SECRET, token: 'xoxb-test-token', host: '127.0.0.1', port: 0, apiUrl: 'http://127.0.0.1:1/api/', channels: [CHANNEL] },
      log: pino({ level: 'silent' }),
      listenHost: '127.0.0.1',
      retryConfig: { retries: 0 },
      processBeforeResponse: true,
    });
    const got: ChatMessage[] = [];
    await down.start((m) => {
      got.push(m);
    });
    expect(down.isReady()).toBe(true);
    const r = await postToBot(`http://127.0.0.1:${down.port()}/slack/events`, SECRET, eventBody({ user: 'U0KEVIN', channel: CHANNEL, text: '!help' }), 'application/json');
    expect(r.status).toBe(200);
    expect(got.map((m) => m.text)).toEqual(['!help']);
    await expect(down.send({ adapter: 'slack', room: CHANNEL }, { kind: 'reply', text: 'x' })).rejects.toThrow();
    await down.stop();
  });
});
