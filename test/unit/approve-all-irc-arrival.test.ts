/**
 * `!approve all` counts what its sender could have seen when the line ARRIVED at the IRC adapter, not when its
 * turn came: the WHOIS that binds the line to an account (no account-tag) takes time, and a job announced as
 * ready meanwhile was not on the sender's screen when they typed. Real executor, router, notifier and approval
 * prompts; the IRC adapter over the fake irc-framework client, WHOIS answered when the test says.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { ApprovalPrompts } from '../../src/chat/approval-prompts';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeIrcClient, fakeIrcAdapter } from '../fakes/fake-irc-client';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

const CHANNEL = '#builders';
const NIRIK = { nick: 'nirik', ident: 'nirik', hostname: 'fedora/staff/nirik', account: 'nirik' };
const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };

describe('!approve all over IRC', () => {
  it('a job announced while the line’s WHOIS is pending is not approved by that line; a later !approve all approves it', async () => {
    const config = testConfig();
    const store = new MemoryStore();
    await store.open();
    const log = pino({ level: 'silent' });
    const executor = new Executor({ config, store, koji: new FakeKoji(), connector: {} as never, drivers: {} as never, log, steps: new ScriptedSteps().steps() });
    const prompts = new ApprovalPrompts({ waitingAtStart: executor.queue().map((j) => j.id) });
    const fake = new FakeIrcClient();
    const irc = fakeIrcAdapter(fake, { channels: [CHANNEL], pace: { burst: 1000, perSecond: 1000 } });
    const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: () => undefined, adapters: [irc], seenBefore: (id, at) => prompts.seenBefore(id, at) });
    const notifier = createNotifier({ executor, adapters: [irc], log, prompts });
    await irc.start((m) => router.handle(m));
    /** rekick's answers to `!approve all` (not the notifier's lines). */
    const approveLines = () => fake.linesTo(CHANNEL).filter((l) => /^(!approve refused|approved \d|nothing approved)/.test(l));

    fake.arrive(NIRIK, CHANNEL);
    fake.whoisMode = 'manual';
    fake.say('nirik', CHANNEL, '!approve all');
    const typedBy = Date.now(); // the line has arrived (the fake emits it at once)
    await until(() => fake.heldWhois.length === 1, 'the WHOIS of the line', 5000, () => JSON.stringify(fake.written));
    // Strictly later than the line's arrival, buildarm-01 becomes ready and its ready line goes to the channel.
    await until(() => Date.now() > typedBy, 'the clock to move on', 5000);
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin: { adapter: 'irc', room: CHANNEL } });
    await executor.idle();
    await notifier.flush();
    expect(prompts.announcedAt(executor.queue()[0]!.id)!.getTime()).toBeGreaterThan(typedBy);

    fake.answerAllWhois();
    await until(() => approveLines().length > 0, 'the answer to !approve all', 5000, () => JSON.stringify(fake.written));
    expect(approveLines()[0]).toMatch(/^!approve refused: nothing approved; left waiting \(ready after your command could have seen it\): buildarm-01 /);
    expect(executor.jobs({ host: 'buildarm-01' })[0]!.state).toBe('awaiting-approval');

    // Typed once the line was out: approved.
    fake.whoisMode = 'auto';
    fake.say('nirik', CHANNEL, '!approve all');
    await until(() => approveLines().length > 1, 'the second answer', 5000, () => JSON.stringify(fake.written));
    await executor.idle();
    expect(approveLines()[1]).toBe('approved 1: buildarm-01');
    expect(executor.jobs({ host: 'buildarm-01' })[0]!.state).toBe('succeeded');
    notifier.stop();
    await irc.stop();
  });
});
