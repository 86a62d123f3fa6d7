/**
 * Flood limits of a real inspircd (default class): a burst of 50 hosts' progress goes out paced, with no flood
 * disconnect, progress summarised and failure lines verbatim; the same server does kill a client that does not
 * pace (so the first test can fail). And nobody floods the channel through rekick: a 500-host `!hosts` from a user
 * without an account is a summary, a failure right after it comes within a few lines, and a user who sends a
 * dozen commands at once gets the burst answered and one notice.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { STEP_NAMES, type ExecutorEvent } from '../../src/model';
import { FakeExecutor } from '../fakes/fake-executor';
import { testConfig } from '../fakes/test-config';
import { connectIrcUser } from './helpers/ircd';
import { CHANNEL, channelJob, progress, until, useIrcNetwork } from './helpers/irc-bot-rig';

const rig = useIrcNetwork();
const { cleanups, makeBot } = rig;

describe('IRC adapter under the server\'s flood limits', () => {
  it('50 hosts reporting at once: no flood disconnect, progress summarised, every failure line verbatim', async () => {
    const bot = makeBot(rig.net.port, 'rekick2');
    cleanups.push(() => bot.stop('tests done'));
    await bot.start(() => undefined);
    const watcher = await connectIrcUser(rig.net, { nick: 'watcher2', channels: [CHANNEL] });
    cleanups.push(() => watcher.quit());

    const hosts = Array.from({ length: 50 }, (_, i) => `buildarm-${String(i + 1).padStart(2, '0')}`);
    const failures: string[] = [];
    let sent = 0;
    // 200 lines: 4 progress lines per host, interleaved as hosts progress together; every 10th host fails.
    for (let s = 0; s < 2; s++) {
      for (const h of hosts) {
        await bot.send({ adapter: 'irc', room: CHANNEL }, progress(h, STEP_NAMES[s]!, s, false));
        await bot.send({ adapter: 'irc', room: CHANNEL }, progress(h, STEP_NAMES[s]!, s, true));
        sent += 2;
      }
    }
    for (const [i, h] of hosts.entries()) {
      if (i % 10 !== 9) continue;
      const line = `${h} [3/8] stage-installer failed: grub2-mkconfig exited 1; host left disabled in Koji`;
      failures.push(line);
      const event: ExecutorEvent = { type: 'step-failed', job: channelJob(h), step: 'stage-installer', index: 2, error: { code: 'E_X', message: 'x' }, outputTail: [] };
      await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'progress', event, text: line });
    }
    expect(sent).toBe(200);

    const last = failures[failures.length - 1]!;
    await watcher.waitForLine((l) => l.message === last, 60_000);
    // Failures go out ahead of the waiting progress summaries: wait for everything to arrive.
    await until(() => bot.stats().queued === 0, 'the outbox to drain', 60_000);
    await until(() => watcher.seen.filter((l) => l.nick === 'rekick2').length === bot.stats().delivered, 'every delivered line to reach the watcher', 20_000);
    const got = watcher.seen.filter((l) => l.nick === 'rekick2').map((l) => l.message);
    // Every failure verbatim, in order.
    expect(got.filter((m) => m.includes(' failed: '))).toEqual(failures);
    // Far fewer lines than were queued, and the summary names every host's latest step.
    expect(got.length).toBeLessThan(40);
    const summary = got.filter((m) => !m.includes(' failed: ')).join(' ');
    expect(summary).toMatch(/summarised/);
    // Complete: each host's last mention (in a summary or a verbatim line that came after it) is its last step
    // (for a host that failed, a summary waiting when the failure went ahead of it says so).
    for (const [i, h] of hosts.entries()) {
      const at = summary.lastIndexOf(`${h} [`);
      expect(at, h).toBeGreaterThanOrEqual(0);
      expect(summary.slice(at + h.length + 1), h).toMatch(i % 10 === 9 ? /^\[(2\/8\] drain (ok|done)|3\/8\] stage-installer failed)/ : /^\[2\/8\] drain (ok|done)/);
    }
    expect(bot.stats().disconnects).toBe(0);
    expect(bot.stats().summarised).toBeGreaterThan(150);
    expect(bot.isReady()).toBe(true);
  });

  it('the same server kills a client that writes 200 lines at once (what pacing avoids)', async () => {
    const bot = makeBot(rig.net.port, 'floody', { pace: { burst: 1000, perSecond: 1000 }, window: 1000, reconnect: { minMs: 60_000, maxMs: 60_000 } });
    cleanups.push(() => bot.stop('tests done'));
    await bot.start(() => undefined);
    for (let i = 0; i < 200; i++) {
      await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: `line ${i} ${'x'.repeat(80)}` });
    }
    await until(() => bot.stats().disconnects > 0, 'the server to kill the flooding client', 20_000);
    // inspircd says why (RecvQ exceeded / Excess Flood) when the ERROR line reaches us first; under load the reset
    // of the socket can win that race, and the client sees only the reset.
    expect(bot.stats().lastError ?? '').toMatch(/RecvQ|Flood|ECONNRESET|EPIPE|socket closed/i);
  });
});

describe('nobody floods the channel through rekick (real router, real server)', () => {
  it('a 500-host !hosts from a user without an account is a summary; a failure right after comes within a few lines; a dozen commands at once get the burst and one notice', async () => {
    const hosts = Array.from({ length: 500 }, (_, i) => ({ name: `build-${String(i + 1).padStart(3, '0')}`, arch: 'x86_64', kind: 'baremetal' }));
    const executor = await FakeExecutor.create(testConfig({}, hosts));
    const bot = makeBot(rig.net.port, 'rekick3');
    let limited = 0;
    const router = createRouter({
      executor,
      commands: commandRegistry,
      roles: createRoles(executor.config.roles),
      log: pino({ level: 'silent' }),
      audit: () => undefined,
      adapters: [bot],
      nick: 'rekick3',
      statusUrl: () => 'http://rekick.example.org:8080/',
      rateLimit: { perMinute: 10, burst: 5, privilegedPerMinute: 60, privilegedBurst: 20 },
      onRateLimited: () => {
        limited += 1;
      },
      // Frozen: the server's fakelag spreads the flood over seconds; no bucket refills meanwhile.
      now: () => new Date('2026-12-01T12:00:00Z'),
    });
    const notifier = createNotifier({ executor, adapters: [bot], log: pino({ level: 'silent' }) });
    cleanups.push(async () => notifier.stop());
    cleanups.push(() => bot.stop('tests done'));
    await bot.start((m) => router.handle(m));
    const [watcher, guest, flooder] = await Promise.all([
      connectIrcUser(rig.net, { nick: 'watcher3', channels: [CHANNEL] }),
      connectIrcUser(rig.net, { nick: 'guest3', channels: [CHANNEL] }),
      connectIrcUser(rig.net, { nick: 'flooder3', channels: [CHANNEL] }),
    ]);
    cleanups.push(() => watcher.quit(), () => guest.quit(), () => flooder.quit());
    const fromBot = () => watcher.seen.filter((l) => l.nick === 'rekick3' && l.target === CHANNEL).map((l) => l.message);

    guest.say(CHANNEL, '!hosts');
    await watcher.waitForLine((l) => l.nick === 'rekick3', 20_000);
    const failed = 'build-042 [3/8] stage-installer failed: grub2-mkconfig exited 1';
    const job = { ...channelJob('build-042'), steps: channelJob('build-042').steps.map((st, i) => ({ ...st, status: i < 2 ? ('succeeded' as const) : st.status })) };
    executor.emit({ type: 'step-failed', job, step: 'stage-installer', index: 2, error: { code: 'E_REMOTE_COMMAND', message: 'grub2-mkconfig exited 1' }, outputTail: [] });
    await watcher.waitForLine((l) => l.nick === 'rekick3' && l.message.startsWith(failed), 30_000);
    const said = fromBot();
    expect(said.findIndex((m) => m.startsWith(failed)), said.slice(0, 6).join('\n')).toBeLessThanOrEqual(3);
    expect(said[0]).toMatch(/^500 hosts: Koji 500 not known yet; none in a job; .*http:\/\/rekick\.example\.org:8080\/; !hosts --page 1 in a private message to rekick3/);
    expect(bot.stats().queued).toBeLessThanOrEqual(10);

    for (let i = 0; i < 12; i++) flooder.say(CHANNEL, '!help');
    await until(() => limited === 7, 'the seven lines over the limit', 30_000);
    await until(() => bot.stats().queued === 0, 'the outbox to drain', 30_000);
    await watcher.waitForLine((l) => l.nick === 'rekick3' && l.message.startsWith('slow down, flooder3'), 20_000);
    const answers = fromBot().filter((m) => m.startsWith('commands: ') || m.startsWith('slow down'));
    expect(answers.filter((m) => m.startsWith('commands: '))).toHaveLength(5);
    expect(answers.filter((m) => m.startsWith('slow down'))).toEqual([expect.stringMatching(/^slow down, flooder3: at most 10 commands a minute; rekick ignores your commands for \d+s$/)]);
    expect(bot.stats().disconnects).toBe(0);
  }, 120_000);
});
