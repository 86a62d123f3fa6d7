/**
 * What chat lines write to the audit trail, through the real router and the real executor (scripted steps,
 * FakeKoji, the memory store): a read-only command, by anyone, costs no write and leaves no entry; refusals of an
 * identified user go to the refusal list, never push a security action out and cost no write each (one at close);
 * lines from IRC users without an account (no trustworthy identity) are counted and summed up, never stored one by
 * one, and cost no write at all.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import type { RollingApi } from '../../commands/types';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import { disableStep } from '../../src/steps/disable';
import { enableStep } from '../../src/steps/enable';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeChat } from '../fakes/fake-chat';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
/** Logged in to services, but holds no role here. */
const eve: Identity = { source: 'irc', id: 'eve', display: 'eve' };
/** Not logged in to services: no identity rekick can trust. */
const noAccount = (nick: string): Identity => ({ source: 'irc', display: nick });
/** An account rekick could not confirm when the line arrived (src/chat/irc/identity.ts): no trustworthy identity. */
const unconfirmed = (nick: string): Identity => ({ source: 'irc', display: nick, unconfirmed: 'WHOIS did not answer in time' });

const rolling: RollingApi = {
  start: async () => 'started',
  pause: async () => 'paused',
  resume: async () => 'resumed',
  stop: async () => 'stopped',
  status: () => ['no rolling run'],
};

async function setup(limits: { maxAudit?: number; refusalsMax?: number } = {}) {
  const config = testConfig({ roles: { operator: ['irc:kevin'], approver: ['irc:nirik'] } });
  const store = new MemoryStore(limits);
  await store.open();
  const koji = new FakeKoji();
  for (const h of ['buildarm-01', 'buildarm-02', 'buildarm-03']) koji.addHost(h, 'aarch64');
  const steps = new ScriptedSteps().steps().map((s) => (s.name === 'disable' ? disableStep : s.name === 'enable' ? enableStep : s));
  const log = pino({ level: 'silent' });
  const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
  const chat = new FakeChat('irc');
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters: [chat], rolling });
  await chat.start((m) => router.handle(m));
  await chat.say(kevin, '!reinstall buildarm-01 buildarm-02');
  await executor.idle();
  await chat.say(nirik, '!approve buildarm-01');
  await executor.idle();
  expect(store.listAudit({ kind: 'actions' }).map((e) => `${e.action} ${e.host ?? ''}`.trim())).toEqual([
    'reinstall buildarm-01',
    'reinstall buildarm-02',
    '!reinstall',
    'approve buildarm-01',
    '!approve',
  ]);
  return { executor, store, chat };
}

describe('the audit trail from chat', () => {
  it('a read-only command, by anyone, costs no write and leaves no entry', async () => {
    const { executor, store, chat } = await setup();
    const writes = store.writes;
    const trail = store.listAudit();
    const lines = ['!status', '!status buildarm-01', '!hosts', '!queue', '!help', '!help approve', '!whoami', '!rolling status', '!rolling'];
    const users = [kevin, nirik, eve, noAccount('mallory')];
    const before = chat.sent.length;
    for (const user of users) for (const line of lines) await chat.say(user, line);
    await executor.idle();
    // Every one of them ran (one reply each), and none was a refusal.
    expect(chat.sent.length - before).toBe(users.length * lines.length);
    expect(chat.sent.slice(before).some((s) => /refused|unknown command/.test(s.message.text))).toBe(false);
    expect(store.writes).toBe(writes);
    expect(store.listAudit()).toEqual(trail);
    expect(executor.outsideRefusals.counts()).toEqual([]);
  });

  it('refusals of an identified user never push a security action out and cost no write each', async () => {
    const { executor, store, chat } = await setup({ maxAudit: 100, refusalsMax: 50 });
    const actions = store.listAudit({ kind: 'actions' });
    const writes = store.writes;
    for (let i = 0; i < 250; i++) {
      const line = i % 3 === 0 ? `!nope${i}` : i % 3 === 1 ? `!reinstall buildarm-0${(i % 3) + 1} --reason "try ${i}"` : `!deny buildarm-02 attempt ${i}`;
      await chat.say(eve, line);
    }
    for (let i = 0; i < 50; i++) await chat.say(eve, '!approve buildarm-02');
    await executor.idle();
    expect(store.writes).toBe(writes);
    expect(store.listAudit({ kind: 'actions' })).toEqual(actions);
    const refusals = store.listAudit({ kind: 'refusals' });
    expect(refusals).toHaveLength(50);
    expect(refusals.every((e) => e.who.id === 'eve' && e.outcome === 'refused')).toBe(true);
    // The same refusal fifty times over is one entry.
    expect(refusals.at(-1)).toMatchObject({ action: '!approve', count: 50, detail: expect.stringMatching(/needs the approver role, and irc:eve does not have it/) });
    expect(executor.outsideRefusals.counts()).toEqual([]);
    // Written once, with whatever write comes next (here the close), not once each.
    await store.close();
    expect(store.writes).toBe(writes + 1);
  });

  it('lines from IRC users without an account are counted and summed up, never stored one by one, and cost no write', async () => {
    const { executor, store, chat } = await setup({ maxAudit: 100 });
    const trail = store.listAudit();
    const writes = store.writes;
    for (let i = 0; i < 200; i++) {
      const line = i % 2 ? '!approve buildarm-02' : `!reinstall buildarm-03 --reason "evil ${i}"`;
      await chat.say(noAccount(`nirik_${i}`), line);
    }
    await executor.idle();
    expect(store.writes).toBe(writes);
    expect(store.listAudit()).toEqual(trail);
    expect(executor.outsideRefusals.counts()).toEqual([{ source: 'irc', reason: 'no-account', count: 200 }]);
    // The minute's summary (here forced): one entry, naming no one and carrying nothing the lines said.
    executor.outsideRefusals.flush();
    expect(store.listAudit({ kind: 'refusals' })).toEqual([
      expect.objectContaining({ who: { source: 'irc', display: 'unidentified' }, action: 'chat', outcome: 'refused', count: 200, detail: 'not logged in to services (no account)' }),
    ]);
    expect(store.writes).toBe(writes);
    expect(store.listAudit({ kind: 'actions' })).toEqual(trail);
  });

  it('lines whose services account could not be confirmed are counted apart (unconfirmed), never stored one by one, and cost no write', async () => {
    const { executor, store, chat } = await setup({ maxAudit: 100 });
    const trail = store.listAudit();
    const writes = store.writes;
    const before = chat.sent.length;
    for (let i = 0; i < 30; i++) await chat.say(unconfirmed('nirik'), i % 2 ? '!approve buildarm-02' : '!deny buildarm-02 no');
    await executor.idle();
    // Each refused in one line with its own code; nothing acted on.
    expect(chat.sent.slice(before).map((s) => s.message.text)).toEqual(Array(30).fill(expect.stringMatching(/could not confirm your services account \(WHOIS did not answer in time\).*\[E_IDENTITY_UNCONFIRMED\]/)));
    expect(executor.queue().find((j) => j.host === 'buildarm-02')?.state).toBe('awaiting-approval');
    expect(store.writes).toBe(writes);
    expect(store.listAudit()).toEqual(trail);
    expect(executor.outsideRefusals.counts()).toEqual([{ source: 'irc', reason: 'unconfirmed', count: 30 }]);
    executor.outsideRefusals.flush();
    expect(store.listAudit({ kind: 'refusals' })).toEqual([
      expect.objectContaining({ who: { source: 'irc', display: 'unidentified' }, action: 'chat', outcome: 'refused', count: 30, detail: 'services account could not be confirmed (WHOIS)' }),
    ]);
    expect(store.writes).toBe(writes);
  });
});
