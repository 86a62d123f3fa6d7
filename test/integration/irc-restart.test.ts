/**
 * Delivery through a real inspircd restart: lines queued before and while the server is down all reach the
 * channel after the bot reconnects, each exactly once, in order (echo-message confirms what the server took).
 */
import { describe, expect, it } from 'vitest';
import { connectIrcUser, startGate, type Gate, type IrcUser } from './helpers/ircd';
import { CHANNEL, until, useIrcNetwork } from './helpers/irc-bot-rig';

const rig = useIrcNetwork();
const { cleanups, makeBot } = rig;

describe('IRC adapter and a server restart', () => {
  it('restarting the server while lines are sent: the bot reconnects and the channel gets every line exactly once', async () => {
    const gate: Gate = await startGate({ host: rig.net.host, port: rig.net.port });
    cleanups.push(() => gate.close());
    const bot = makeBot(gate.port, 'rekick');
    cleanups.push(() => bot.stop('tests done'));
    await bot.start(() => undefined);
    const watcher: IrcUser = await connectIrcUser(rig.net, { nick: 'watcher', channels: [CHANNEL] });
    cleanups.push(() => watcher.quit());

    const text = (i: number) => `notice ${String(i).padStart(2, '0')}: buildarm-${i} is ready, !approve buildarm-${i}`;
    for (let i = 1; i <= 10; i++) await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: text(i) });
    // Some lines are through (burst), the rest are waiting on the pacer when the server goes.
    await watcher.waitForLine((l) => l.message === text(3));
    await rig.net.stopServer();
    gate.shut();
    for (let i = 11; i <= 15; i++) await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: text(i) });
    await until(() => !bot.isReady(), 'the bot to notice the server is gone');
    await rig.net.startServer();
    await watcher.reconnect();
    gate.open();

    await watcher.waitForLine((l) => l.message === text(15), 30_000);
    // Give a duplicate the time to show up, should there be one.
    await new Promise((r) => setTimeout(r, 1500));
    const fromBot = watcher.seen.filter((l) => l.nick === 'rekick' && l.target === CHANNEL).map((l) => l.message);
    expect(fromBot).toEqual(Array.from({ length: 15 }, (_, i) => text(i + 1)));
    expect(bot.stats().registrations).toBe(2);
    expect(bot.stats().disconnects).toBe(1);
    expect(bot.isReady()).toBe(true);
  });

});
