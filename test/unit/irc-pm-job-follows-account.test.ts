/**
 * A job started by a private message keeps its progress with the services account that asked (fake client, no
 * account-tag): the origin records the account; the job's lines go to the nick that holds the account now (after
 * a nick change), never to whoever took the old nick; when no nick holds it they are dropped for the private
 * target while the channels still get them.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { createNotifier } from '../../src/chat/notifier';
import type { Origin } from '../../src/model';
import { FakeExecutor } from '../fakes/fake-executor';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';
import { until } from '../support/until';

const CHANNEL = '#builders';
const NIRIK = { nick: 'nirik', ident: 'nirik', hostname: 'fedora/staff/nirik', account: 'nirik' };
const TAKER = { nick: 'nirik', ident: 'taker', hostname: 'elsewhere.example' };

async function setup(caps: string[]) {
  const fake = new FakeIrcClient();
  fake.caps = caps;
  const adapter = fakeIrcAdapter(fake, { channels: [CHANNEL] });
  const got: ChatMessage[] = [];
  await adapter.start((m) => {
    got.push(m);
  });
  return { fake, adapter, got };
}

describe('a job started by a private message follows the account', () => {
  it('account map: progress goes to the new nick after a nick change, not to who took the old one; dropped when nobody holds the account', async () => {
    const { fake, adapter, got } = await setup(['account-notify', 'extended-join']);
    fake.arrive(NIRIK, CHANNEL);
    fake.say('nirik', 'rekick', 'reinstall buildarm-01');
    await until(() => got.length === 1, 'the private line', 5000);
    const origin = got[0]!.origin;
    expect(origin).toEqual({ adapter: 'irc', room: 'nirik', private: true, account: 'nirik' });

    const executor = await FakeExecutor.create();
    const notifier = createNotifier({ executor, adapters: [adapter], log: pino({ level: 'silent' }) });
    const job = await executor.seed('buildarm-01', 'running', { origin });
    fake.changeNick('nirik', 'nirik_afk');
    fake.arrive(TAKER, CHANNEL);
    executor.emit({ type: 'step-started', job, step: 'drain', index: 1 });
    executor.emit({ type: 'step-succeeded', job, step: 'drain', index: 1, durationMs: 1000 });
    await notifier.flush();
    await until(() => fake.linesTo('nirik_afk').length === 2, 'two lines to nirik_afk', 5000, () => JSON.stringify(fake.written));
    expect(fake.linesTo('nirik_afk')).toEqual([expect.stringMatching(/buildarm-01 \[2\/8\] drain/), expect.stringMatching(/buildarm-01 \[2\/8\] drain/)]);
    expect(fake.linesTo('nirik')).toEqual([]);

    // The approver leaves; nobody holds the account: the private lines are dropped, the channel still gets them.
    fake.leave('nirik_afk');
    executor.emit({ type: 'step-started', job, step: 'stage-installer', index: 2 });
    await notifier.flush();
    await until(() => fake.linesTo(CHANNEL).length === 3, 'the channel lines', 5000, () => JSON.stringify(fake.written));
    await adapter.stop();
    expect(fake.linesTo('nirik')).toEqual([]);
    expect(fake.linesTo('nirik_afk')).toHaveLength(2);
    expect(fake.written.filter((l) => l.startsWith('WHOIS'))).toEqual([]);
    notifier.stop();
  });

  it('WHOIS only: progress goes to the nick while it holds the account, and is dropped while someone else has it', async () => {
    const { fake, adapter, got } = await setup([]);
    fake.arrive(NIRIK);
    fake.say('nirik', 'rekick', 'reinstall buildarm-01');
    await until(() => got.length === 1, 'the private line', 5000);
    const origin: Origin = got[0]!.origin;
    expect(origin).toEqual({ adapter: 'irc', room: 'nirik', private: true, account: 'nirik' });
    const line = (n: number) => ({ kind: 'progress' as const, text: `buildarm-01 line ${n}` });

    await adapter.send(origin, line(1));
    await until(() => fake.linesTo('nirik').length === 1, 'line 1', 5000);

    fake.leave('nirik');
    fake.arrive(TAKER);
    fake.whoisMode = 'manual';
    await adapter.send(origin, line(2));
    await until(() => fake.heldWhois.length === 1, 'the WHOIS for line 2', 5000);
    fake.answerWhois('nirik');

    fake.whoisMode = 'auto';
    fake.leave('nirik');
    fake.arrive(NIRIK);
    await adapter.send(origin, line(4));
    await until(() => fake.linesTo('nirik').length === 2, 'line 4', 5000, () => JSON.stringify(fake.written));
    // A reply to a line answers the nick that just sent it (no WHOIS).
    await adapter.send(origin, { kind: 'reply', text: 'queued' });
    // Its WHOIS took the pace's burst: the reply goes out a second later.
    await until(() => fake.linesTo('nirik').length === 3, 'the reply', 5000, () => JSON.stringify(fake.written));
    await adapter.stop();
    expect(fake.linesTo('nirik')).toEqual(['buildarm-01 line 1', 'buildarm-01 line 4', 'queued']);
  });
});
