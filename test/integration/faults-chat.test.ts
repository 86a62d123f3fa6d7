/**
 * The chat server gone mid-job: the real Slack adapter (Bolt) posting to a Slack Web API stand-in that is shut
 * down while a job runs, beside a second adapter that stays up. The executor goes on to the approval gate, the
 * notifier logs every failed send (and never throws), the adapter that stayed up saw every line, and an approval
 * given there enables the host.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/adapter';
import { Executor } from '../../src/executor/executor';
import { disableStep } from '../../src/steps/disable';
import { enableStep } from '../../src/steps/enable';
import type { Step } from '../../src/steps/types';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeChat } from '../fakes/fake-chat';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { startSlackApi, type SlackApiStandIn } from './helpers/slack-api';
import { until as waitUntil } from '../support/until';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };

let api: SlackApiStandIn | undefined;
let slack: SlackAdapter | undefined;

afterAll(async () => {
  await slack?.stop().catch(() => undefined);
  await api?.close().catch(() => undefined);
});

const until = (cond: () => boolean, what: string, ms = 15_000) => waitUntil(cond, what, ms);

describe('the chat server gone', () => {
  it('the job goes on, failed sends are logged, the other chat sees everything and can approve', async () => {
    api = await startSlackApi();
    const records: Array<{ level: number; msg: string; adapter?: string; event?: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(l));
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const config = testConfig({
      slack: { signingSecret: 'test-signing-secret', token: 'xoxb-test', port: 0, apiUrl: api.url, channels: ['C0BUILDERS'] },
    });
    slack = createSlackAdapter({ config: config.slack!, log: log.child({ component: 'slack' }), listenHost: '127.0.0.1', retryConfig: { retries: 0 } });
    const irc = new FakeChat('irc');
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64');
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const steps: Step[] = new ScriptedSteps().steps().map((s) =>
      s.name === 'disable' ? disableStep : s.name === 'enable' ? enableStep : s.name === 'reinstall' ? { ...s, run: async (ctx) => { await gate; return s.run(ctx); } } : s,
    );
    const store = new MemoryStore();
    await store.open();
    const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
    const adapters = [irc, slack];
    const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters });
    const notifier = createNotifier({ executor, adapters, log: log.child({ component: 'notifier' }) });
    await irc.start((m) => router.handle(m));
    await slack.start((m) => router.handle(m));

    await irc.say(kevin, '!reinstall buildarm-01');
    await until(() => irc.texts('#builders').includes('buildarm-01 [4/8] reinstall …'), 'step 4 to start');
    await notifier.flush();
    expect(api.callsOf('chat.postMessage').length).toBeGreaterThan(0);

    // Slack goes away: every send to it now fails.
    await api.close();
    openGate();
    await until(() => store.listJobs()[0]?.state === 'awaiting-approval', 'the approval gate');
    await notifier.flush();
    const failedSends = records.filter((r) => r.msg === 'could not send to chat' && r.adapter === 'slack');
    expect(failedSends.length).toBeGreaterThanOrEqual(1);
    expect(failedSends.map((r) => r.event)).toContain('awaiting-approval');
    expect(failedSends.every((r) => r.level === 50)).toBe(true);

    // The chat that stayed up saw every line, and an approval there enables the host.
    await irc.say(nirik, '!approve buildarm-01');
    await executor.idle();
    await notifier.flush();
    const ircLines = irc.texts('#builders').map((l) => l.replace(/j-[a-z0-9]+-[0-9a-f]+/g, 'JOB').replace(/ ✓ [\d.]+m?s$/, ' ✓'));
    expect(ircLines).toEqual([
      'buildarm-01 queued for reinstall by kevin (job JOB)',
      ...['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify'].flatMap((s, i) => [`buildarm-01 [${i + 1}/8] ${s} …`, `buildarm-01 [${i + 1}/8] ${s} ✓`]),
      'buildarm-01 is ready: !approve buildarm-01 to enable it in Koji (or !deny buildarm-01 REASON)',
      'buildarm-01 approved by nirik; enabling in Koji',
      'buildarm-01 [8/8] enable …',
      'buildarm-01 [8/8] enable ✓',
      'buildarm-01 is enabled in Koji — reinstall done (job JOB)',
    ]);
    expect(store.listJobs()[0]).toMatchObject({ state: 'succeeded', approval: { by: nirik } });
    expect(koji.hosts.get('buildarm-01')).toMatchObject({ enabled: true });
    // Nothing about Slack being down reached the job or the store: no failed step, no store error.
    expect(store.listJobs()[0]!.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(records.filter((r) => /state file|job runner failed/.test(r.msg))).toEqual([]);
    notifier.stop();
    await executor.stop(100);
  });
});
