/**
 * Flood limits of a real inspircd (default class): a burst of 50 hosts' progress goes out paced, with no flood
 * disconnect, progress summarised and failure lines verbatim; the same server does kill a client that does not
 * pace (so the first test can fail).
 */
import { describe, expect, it } from 'vitest';
import { STEP_NAMES, type ExecutorEvent } from '../../src/types';
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
    const got = watcher.seen.filter((l) => l.nick === 'rekick2').map((l) => l.message);
    // Every failure verbatim, in order.
    expect(got.filter((m) => m.includes(' failed: '))).toEqual(failures);
    // Far fewer lines than were queued, and the summary names every host's latest step.
    expect(got.length).toBeLessThan(40);
    const summary = got.filter((m) => !m.includes(' failed: ')).join(' ');
    expect(summary).toMatch(/summarised/);
    // Complete: each host's last mention (in a summary or a verbatim line that came after it) is its last step.
    for (const h of hosts) {
      const at = summary.lastIndexOf(`${h} [`);
      expect(at, h).toBeGreaterThanOrEqual(0);
      expect(summary.slice(at + h.length + 1), h).toMatch(/^\[2\/8\] drain (ok|done)/);
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
