/**
 * `!approve all` approves what its sender could have seen: the jobs whose "ready" line had been handed to a chat
 * before the command line arrived (and jobs already waiting when rekick started). A job that became ready after
 * is left waiting and named; the reply names exactly the hosts approved. Real executor, router, notifier.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { ApprovalPrompts } from '../../src/chat/approval-prompts';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import type { Identity, Origin } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeChat } from '../fakes/fake-chat';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
const origin: Origin = { adapter: 'irc', room: '#builders' };

async function rig() {
  const config = testConfig();
  const store = new MemoryStore();
  await store.open();
  const log = pino({ level: 'silent' });
  const executor = new Executor({ config, store, koji: new FakeKoji(), connector: {} as never, drivers: {} as never, log, steps: new ScriptedSteps().steps() });
  /** The clock the announcements are stamped with (ms); the command's arrival is given by each test. */
  let clock = 1_000_000;
  const prompts = new ApprovalPrompts({ now: () => clock, waitingAtStart: executor.queue().map((j) => j.id) });
  const chat = new FakeChat('irc');
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: () => undefined, adapters: [chat], seenBefore: (id, at) => prompts.seenBefore(id, at) });
  const notifier = createNotifier({ executor, adapters: [chat], log, prompts });
  await chat.start((m) => router.handle(m));
  /** Reinstalls the hosts and lets their ready lines go out at `at` ms. */
  const ready = async (hosts: string[], at: number) => {
    clock = at;
    await executor.reinstall({ hosts, by: kevin, origin });
    await executor.idle();
    await notifier.flush();
  };
  /** `!approve all` from nirik, as arrived at `at` ms; what rekick replied. */
  const approveAll = async (at: number) => {
    const before = chat.sent.length;
    await chat.say(nirik, '!approve all', '#builders', { receivedAt: new Date(at) });
    await executor.idle();
    await notifier.flush();
    return chat.sent.slice(before).filter((s) => s.message.kind === 'reply').map((s) => s.message.text);
  };
  const state = (host: string) => executor.jobs({ host })[0]!.state;
  return { executor, store, prompts, ready, approveAll, state, setClock: (t: number) => (clock = t) };
}

describe('!approve all', () => {
  it('approves the jobs announced before the command arrived, names them, and leaves a job announced after it waiting', async () => {
    const r = await rig();
    await r.ready(['buildarm-01', 'buildarm-02'], 1_000_000);
    // The approver types `!approve all` at 1_000_500; buildarm-03 becomes ready (and is announced) at 1_001_000,
    // before the line is handled (a slow chat, a busy process).
    await r.ready(['buildarm-03'], 1_001_000);
    const replies = await r.approveAll(1_000_500);
    expect(replies).toEqual([
      expect.stringMatching(/^approved 2: (buildarm-01, buildarm-02|buildarm-02, buildarm-01); left waiting \(ready after your command could have seen it\): buildarm-03 \(ready .+ ago\) — !approve buildarm-03$/),
    ]);
    expect(['buildarm-01', 'buildarm-02', 'buildarm-03'].map(r.state)).toEqual(['succeeded', 'succeeded', 'awaiting-approval']);
    // Once the approver could have seen it, `!approve all` approves it.
    expect(await r.approveAll(1_001_000)).toEqual(['approved 1: buildarm-03']);
    expect(r.state('buildarm-03')).toBe('succeeded');
  });

  it('refuses, naming them, when every waiting job was announced after the command arrived', async () => {
    const r = await rig();
    await r.ready(['buildarm-01'], 2_000_000);
    const replies = await r.approveAll(1_999_000);
    expect(replies).toEqual([expect.stringMatching(/^!approve refused: nothing approved; left waiting \(ready after your command could have seen it\): buildarm-01 .* — !approve buildarm-01$/)]);
    expect(r.state('buildarm-01')).toBe('awaiting-approval');
  });

  it('a job waiting when rekick started counts as announced; one whose line has not gone out yet does not', () => {
    const prompts = new ApprovalPrompts({ now: () => 10, waitingAtStart: ['j-old'] });
    expect(prompts.seenBefore('j-old', new Date(0))).toBe(true);
    expect(prompts.seenBefore('j-new', new Date(1e12))).toBe(false);
    prompts.announced('j-new');
    expect(prompts.seenBefore('j-new', new Date(9))).toBe(false);
    expect(prompts.seenBefore('j-new', new Date(10))).toBe(true);
    prompts.forget('j-new');
    prompts.forget('j-old');
    expect(prompts.seenBefore('j-old', new Date(1e12))).toBe(false);
  });
});
