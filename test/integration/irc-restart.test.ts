/**
 * Delivery through a real inspircd restart: lines queued before and while the server is down all reach the
 * channel after the bot reconnects, each exactly once, in order (echo-message confirms what the server took).
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrcAdapter, type IrcAdapter } from '../../src/chat/irc';
import type { OutgoingMessage } from '../../src/chat/chat-adapter';
import { type ExecutorEvent, type Job, type StepName } from '../../src/types';
import { connectIrcUser, startGate, startIrcNetwork, type Gate, type IrcNetwork, type IrcUser } from './helpers/ircd';
import { makeJob } from '../fakes/jobs';

const CHANNEL = '#builders';
let net: IrcNetwork;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  net = await startIrcNetwork({ accounts: [{ account: 'rekick', password: 'bot-pw-2' }] });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await net?.stop();
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function makeBot(port: number, nick: string, extra: Partial<Parameters<typeof createIrcAdapter>[0]> = {}): IrcAdapter {
  return createIrcAdapter({
    config: { host: net.host, port, tls: false, nick, sasl: { account: 'rekick', password: 'bot-pw-2' }, channels: [CHANNEL], rejectUnauthorized: true },
    log: pino({ level: 'silent' }),
    reconnect: { minMs: 200, maxMs: 1000 },
    ...extra,
  });
}

function job(host: string): Job {
  return makeJob({ host, id: `job-${host}`, origin: { adapter: 'irc', room: CHANNEL } });
}

function progress(host: string, step: StepName, index: number, done: boolean): OutgoingMessage {
  const event: ExecutorEvent = done
    ? { type: 'step-succeeded', job: job(host), step, index, durationMs: 1500 }
    : { type: 'step-started', job: job(host), step, index };
  return { kind: 'progress', event, text: `${host} [${index + 1}/8] ${step} ${done ? 'done in 1.5s' : 'started'}` };
}

describe('IRC adapter and a server restart', () => {
  it('restarting the server while lines are sent: the bot reconnects and the channel gets every line exactly once', async () => {
    const gate: Gate = await startGate({ host: net.host, port: net.port });
    cleanups.push(() => gate.close());
    const bot = makeBot(gate.port, 'rekick');
    cleanups.push(() => bot.stop('tests done'));
    await bot.start(() => undefined);
    const watcher: IrcUser = await connectIrcUser(net, { nick: 'watcher', channels: [CHANNEL] });
    cleanups.push(() => watcher.quit());

    const text = (i: number) => `notice ${String(i).padStart(2, '0')}: buildarm-${i} is ready, !approve buildarm-${i}`;
    for (let i = 1; i <= 10; i++) await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: text(i) });
    // Some lines are through (burst), the rest are waiting on the pacer when the server goes.
    await watcher.waitForLine((l) => l.message === text(3));
    await net.stopServer();
    gate.shut();
    for (let i = 11; i <= 15; i++) await bot.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: text(i) });
    await until(() => !bot.isReady(), 'the bot to notice the server is gone');
    await net.startServer();
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
