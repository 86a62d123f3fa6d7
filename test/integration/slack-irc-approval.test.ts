/**
 * One executor, two real chats: a job started from Slack (/rekick) runs, both Slack (parent message, thread,
 * buttons) and IRC (channel lines through a real inspircd + atheme) see each step; a nick taken without the
 * account and a Slack non-approver's click are refused; the real approver's !approve in IRC enables the host;
 * a Slack approver's two clicks on another job make one enable; a click on an earlier job's message (or on a
 * button that names no job) is refused and never approves the host's later job.
 *
 * The executor runs scripted steps against a fake Koji (test/fakes), so the test is about the chat side.
 * The IRC client class is raised (routing is tested here; flood limits in irc-flood.test.ts).
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import type { ChatAdapter } from '../../src/chat/chat-adapter';
import { createIrcAdapter, type IrcAdapter } from '../../src/chat/irc/adapter';
import { createNotifier, type Notifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/adapter';
import { Executor } from '../../src/executor/executor';
import { STEP_NAMES } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { connectIrcUser, startIrcNetwork, type IrcNetwork, type IrcUser } from './helpers/ircd';
import { clickBody, postToBot, slashBody, startSlackApi, type SlackApiStandIn } from './helpers/slack-api';

const SECRET = 'e2e-signing-secret';
const SLACK_CHANNEL = 'C0BUILDERS';
const IRC_CHANNEL = '#builders';
const log = pino({ level: 'silent' });

let net: IrcNetwork;
let api: SlackApiStandIn;
let irc: IrcAdapter;
let slack: SlackAdapter;
let executor: Executor;
let notifier: Notifier;
let koji: FakeKoji;
let watcher: IrcUser;
let slackUrl: string;
const people: IrcUser[] = [];
/** Hosts in the order of their `enabled` events (the scripted enable step does not call Koji). */
const enabled: string[] = [];

/** Waits until the executor is idle and every chat line has left (IRC: delivered and echoed). */
async function settle(): Promise<void> {
  await executor.idle();
  await notifier.flush();
  const deadline = Date.now() + 30_000;
  while (irc.stats().queued > 0) {
    if (Date.now() > deadline) throw new Error('IRC outbox did not drain');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The value of a button (Approve or Deny) in the last version of a job's parent message in the Slack channel. */
function buttonValue(jobId: string, actionId: 'rekick_approve' | 'rekick_deny'): string {
  const parent = slack.parentOf(jobId, SLACK_CHANNEL)!;
  const last = [...api.callsOf('chat.postMessage'), ...api.callsOf('chat.update')].filter((c) => c.args.ts === parent.ts || (c.method === 'chat.postMessage' && !c.args.thread_ts && c.args.channel === SLACK_CHANNEL && JSON.stringify(c.args.blocks ?? '').includes(jobId)));
  for (const call of last.reverse()) {
    const blocks = (call.args.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
    const button = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === actionId);
    if (button) return button.value;
  }
  throw new Error(`no ${actionId} button for job ${jobId}`);
}

const ircFromBot = () => watcher.seen.filter((l) => l.nick === 'rekick' && l.target === IRC_CHANNEL).map((l) => l.message);

beforeAll(async () => {
  net = await startIrcNetwork({
    accounts: [
      { account: 'rekick', password: 'bot-pw' },
      { account: 'nirik', password: 'nirik-pw' },
    ],
    clientClass: { threshold: 100, commandrate: 50_000 },
  });
  api = await startSlackApi();
  const config = testConfig({
    roles: { operator: ['irc:kevin', 'slack:U0KEVIN'], approver: ['irc:nirik', 'slack:U0NIRIK'] },
    irc: { host: net.host, port: net.port, nick: 'rekick', sasl: { account: 'rekick', password: 'bot-pw' }, channels: [IRC_CHANNEL] },
    slack: { signingSecret: SECRET, token: 'xoxb-e2e', port: 0, apiUrl: api.url, channels: [SLACK_CHANNEL] },
  });
  const store = new MemoryStore();
  await store.open();
  koji = new FakeKoji();
  for (const h of config.hosts) koji.addHost(h.name, h.arch);
  executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps: new ScriptedSteps().steps() });
  irc = createIrcAdapter({ config: config.irc!, log, pace: { burst: 10, perSecond: 20 }, window: 8, backlogThreshold: 200 });
  slack = createSlackAdapter({
    config: config.slack!,
    log,
    listenHost: '127.0.0.1',
    retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 50 },
    processBeforeResponse: true,
    jobs: (id) => executor.store.getJob(id),
  });
  const adapters: ChatAdapter[] = [irc, slack];
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters, nick: 'rekick' });
  notifier = createNotifier({ executor, adapters, log });
  executor.on((e) => {
    if (e.type === 'enabled') enabled.push(e.job.host);
  });
  await executor.start();
  await Promise.all(adapters.map((a) => a.start((m) => router.handle(m))));
  slackUrl = `http://127.0.0.1:${slack.port()}/slack/events`;
  watcher = await connectIrcUser(net, { nick: 'watcher', channels: [IRC_CHANNEL] });
  people.push(watcher);
});

afterAll(async () => {
  await Promise.allSettled(people.map((p) => p.quit()));
  notifier?.stop();
  await executor?.stop(1000).catch(() => undefined);
  await irc?.stop('tests done');
  await slack?.stop();
  await api?.close();
  await net?.stop();
});

describe('a job started from Slack, approved from IRC', () => {
  it('Slack /rekick starts the job; IRC and Slack both see each step', async () => {
    expect(irc.isReady()).toBe(true);
    const r = await postToBot(slackUrl, SECRET, slashBody({ user: 'U0KEVIN', userName: 'kevin', channel: SLACK_CHANNEL, text: 'reinstall buildarm-03', responseUrl: api.responseUrl('s') }), 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    await settle();
    const job = executor.jobs({ host: 'buildarm-03' })[0]!;
    expect(job.state).toBe('awaiting-approval');

    const ircLines = ircFromBot();
    for (const [i, step] of STEP_NAMES.slice(0, 7).entries()) {
      expect(ircLines.some((l) => l.startsWith(`buildarm-03 [${i + 1}/8] ${step}`)), step).toBe(true);
    }
    expect(ircLines.some((l) => l.includes('!approve buildarm-03'))).toBe(true);

    const parent = slack.parentOf(job.id, SLACK_CHANNEL)!;
    const thread = api.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === parent.ts).map((c) => String(c.args.text));
    for (const [i, step] of STEP_NAMES.slice(0, 7).entries()) {
      expect(thread.some((l) => l.startsWith(`buildarm-03 [${i + 1}/8] ${step}`)), step).toBe(true);
    }
    const last = api.callsOf('chat.update').filter((c) => c.args.ts === parent.ts).pop()!;
    expect(JSON.stringify(last.args.blocks)).toContain('rekick_approve');
  });

  it('a client using the approver\'s nick without the account is refused; nothing is enabled', async () => {
    const impostor = await connectIrcUser(net, { nick: 'nirik', channels: [IRC_CHANNEL] });
    people.push(impostor);
    const before = ircFromBot().length;
    impostor.say(IRC_CHANNEL, '!approve buildarm-03');
    await watcher.waitForLine((l) => l.nick === 'rekick' && ircFromBot().length > before);
    await settle();
    expect(ircFromBot().slice(before).join('\n')).toMatch(/not logged in to services/);
    expect(enabled).toEqual([]);
    expect(executor.jobs({ host: 'buildarm-03' })[0]!.state).toBe('awaiting-approval');
    await impostor.quit();
  });

  it('a Slack click by a non-approver is refused privately; nothing is enabled', async () => {
    const job = executor.jobs({ host: 'buildarm-03' })[0]!;
    const parent = slack.parentOf(job.id, SLACK_CHANNEL)!;
    const r = await postToBot(slackUrl, SECRET, clickBody({ user: 'U0RANDO', channel: SLACK_CHANNEL, messageTs: parent.ts, actionId: 'rekick_approve', value: 'buildarm-03', responseUrl: api.responseUrl('c') }), 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    await settle();
    const eph = api.callsOf('chat.postEphemeral').filter((c) => c.args.user === 'U0RANDO');
    expect(eph.length).toBe(1);
    expect(String(eph[0]!.args.text)).toMatch(/approver/);
    expect(api.callsOf('chat.postMessage').some((c) => c.args.text === eph[0]!.args.text)).toBe(false);
    expect(enabled).toEqual([]);
    expect(executor.jobs({ host: 'buildarm-03' })[0]!.state).toBe('awaiting-approval');
  });

  it('the real approver\'s !approve in IRC enables the host; both chats see it', async () => {
    const nirik = await connectIrcUser(net, { nick: 'nirik', sasl: { account: 'nirik', password: 'nirik-pw' }, channels: [IRC_CHANNEL] });
    people.push(nirik);
    nirik.say(IRC_CHANNEL, '!approve buildarm-03');
    await watcher.waitForLine((l) => l.nick === 'rekick' && /buildarm-03 is enabled in Koji/.test(l.message));
    await settle();
    expect(enabled).toEqual(['buildarm-03']);
    const job = executor.jobs({ host: 'buildarm-03' })[0]!;
    expect(job.state).toBe('succeeded');
    expect(ircFromBot().some((l) => l.startsWith('buildarm-03 approved by nirik'))).toBe(true);
    expect(ircFromBot().some((l) => l.startsWith('buildarm-03 [8/8] enable'))).toBe(true);
    const parent = slack.parentOf(job.id, SLACK_CHANNEL)!;
    const thread = api.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === parent.ts).map((c) => String(c.args.text));
    expect(thread.some((l) => l.startsWith('buildarm-03 approved by nirik'))).toBe(true);
    expect(thread.some((l) => /enabled in Koji/.test(l))).toBe(true);
    const last = api.callsOf('chat.update').filter((c) => c.args.ts === parent.ts).pop()!;
    expect(JSON.stringify(last.args.blocks)).not.toContain('rekick_approve');
  });

  it('a Slack approver clicking Approve twice enables the host once', async () => {
    await postToBot(slackUrl, SECRET, slashBody({ user: 'U0KEVIN', channel: SLACK_CHANNEL, text: 'reinstall buildarm-02', responseUrl: api.responseUrl('s2') }), 'application/x-www-form-urlencoded');
    await settle();
    const job = executor.jobs({ host: 'buildarm-02' })[0]!;
    expect(job.state).toBe('awaiting-approval');
    const parent = slack.parentOf(job.id, SLACK_CHANNEL)!;
    const value = buttonValue(job.id, 'rekick_approve');
    expect(JSON.parse(value)).toEqual({ job: job.id, host: 'buildarm-02' });
    const click = () => postToBot(slackUrl, SECRET, clickBody({ user: 'U0NIRIK', userName: 'nirik-slack', channel: SLACK_CHANNEL, messageTs: parent.ts, actionId: 'rekick_approve', value, responseUrl: api.responseUrl('c2') }), 'application/x-www-form-urlencoded');
    const [a, b] = await Promise.all([click(), click()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await settle();
    expect(enabled).toEqual(['buildarm-03', 'buildarm-02']);
    // The second click was refused, privately, to the clicker.
    expect(api.callsOf('chat.postEphemeral').filter((c) => c.args.user === 'U0NIRIK').length).toBeGreaterThanOrEqual(1);
    expect(executor.jobs({ host: 'buildarm-02' })[0]!.state).toBe('succeeded');
    await watcher.waitForLine((l) => l.nick === 'rekick' && /buildarm-02 is enabled in Koji/.test(l.message));
  });

  it('a click on an earlier job\'s message never approves the host\'s later job: refused privately, saying what became of it; the old message loses its buttons', async () => {
    const slash = (text: string, user = 'U0KEVIN', userName = 'kevin') =>
      postToBot(slackUrl, SECRET, slashBody({ user, userName, channel: SLACK_CHANNEL, text, responseUrl: api.responseUrl('s') }), 'application/x-www-form-urlencoded');
    await slash('reinstall buildarm-01');
    await settle();
    const first = executor.jobs({ host: 'buildarm-01' })[0]!;
    expect(first.state).toBe('awaiting-approval');
    const firstApprove = buttonValue(first.id, 'rekick_approve');
    const firstDeny = buttonValue(first.id, 'rekick_deny');
    await slash('cancel buildarm-01');
    await settle();
    await slash('reinstall buildarm-01');
    await settle();
    const second = executor.jobs({ host: 'buildarm-01' })[0]!;
    expect(second.id).not.toBe(first.id);
    expect(second.state).toBe('awaiting-approval');

    // The first job's message as rekick posted it before a restart: rekick no longer tracks it (another ts).
    const oldTs = '1700000000.000777';
    const before = api.callsOf('chat.postEphemeral').length;
    for (const [actionId, value] of [['rekick_approve', firstApprove], ['rekick_deny', firstDeny]] as const) {
      const r = await postToBot(slackUrl, SECRET, clickBody({ user: 'U0NIRIK', userName: 'nirik-slack', channel: SLACK_CHANNEL, messageTs: oldTs, actionId, value, responseUrl: api.responseUrl('c3') }), 'application/x-www-form-urlencoded');
      expect(r.status).toBe(200);
    }
    await settle();
    const refusals = api.callsOf('chat.postEphemeral').slice(before).filter((c) => c.args.user === 'U0NIRIK').map((c) => String(c.args.text));
    expect(refusals).toEqual([
      expect.stringMatching(new RegExp(`buildarm-01's job ${first.id} is no longer waiting for approval \\(it was cancelled by kevin\\); buildarm-01 is now in job ${second.id} \\(waiting for approval\\); nothing approved`)),
      expect.stringMatching(new RegExp(`buildarm-01's job ${first.id} is no longer waiting for approval \\(it was cancelled by kevin\\).*nothing denied`)),
    ]);
    expect(executor.jobs({ host: 'buildarm-01' })[0]).toMatchObject({ id: second.id, state: 'awaiting-approval' });
    expect(enabled).not.toContain('buildarm-01');
    const updated = api.callsOf('chat.update').filter((c) => c.args.ts === oldTs);
    expect(updated.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(updated.at(-1)!.args.blocks)).not.toContain('rekick_approve');
    expect(String(updated.at(-1)!.args.text)).toMatch(/buildarm-01: cancelled/);

    // A button posted before buttons named their job (value: the host only) is refused, never acted on.
    const r = await postToBot(slackUrl, SECRET, clickBody({ user: 'U0NIRIK', userName: 'nirik-slack', channel: SLACK_CHANNEL, messageTs: oldTs, actionId: 'rekick_approve', value: 'buildarm-01', responseUrl: api.responseUrl('c4') }), 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    await settle();
    const stale = api.callsOf('chat.postEphemeral').filter((c) => c.args.user === 'U0NIRIK').at(-1)!;
    expect(String(stale.args.text)).toMatch(/posted before rekick's buttons named their job.*nothing approved/);
    expect(executor.jobs({ host: 'buildarm-01' })[0]).toMatchObject({ id: second.id, state: 'awaiting-approval' });

    // The second job's own button approves it.
    await postToBot(slackUrl, SECRET, clickBody({ user: 'U0NIRIK', userName: 'nirik-slack', channel: SLACK_CHANNEL, messageTs: slack.parentOf(second.id, SLACK_CHANNEL)!.ts, actionId: 'rekick_approve', value: buttonValue(second.id, 'rekick_approve'), responseUrl: api.responseUrl('c5') }), 'application/x-www-form-urlencoded');
    await settle();
    expect(executor.jobs({ host: 'buildarm-01' })[0]).toMatchObject({ id: second.id, state: 'succeeded' });
    expect(enabled).toContain('buildarm-01');
  });
});
