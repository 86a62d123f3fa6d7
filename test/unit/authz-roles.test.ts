/**
 * Authorization through the real router and the real executor (scripted steps, FakeKoji, the memory store as
 * the audit trail): a spoofed IRC nick (no services account), the same id from another source, an operator
 * trying to approve or deny, and an approver of another site's config are all refused in one line; nothing
 * changes (the host stays at the approval gate, disabled in Koji); and each refusal of an identified user is in
 * the store's refusal list saying refused, who and why, while one without an account (no trustworthy identity) is
 * counted, and only summed up there.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
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

/** This site: kevin operates, nirik approves. Another site's config names alice as its approver. */
const thisSite = { operator: ['irc:kevin', 'slack:U0KEVIN'], approver: ['irc:nirik', 'slack:U0NIRIK'] };
const otherSite = { operator: ['irc:bob'], approver: ['irc:alice', 'slack:U0ALICE'] };

async function setup() {
  const config = testConfig({ roles: thisSite });
  const store = new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  for (const h of ['buildarm-01', 'buildarm-02', 'buildarm-03']) koji.addHost(h, 'aarch64');
  const steps = new ScriptedSteps().steps().map((s) => (s.name === 'disable' ? disableStep : s.name === 'enable' ? enableStep : s));
  const log = pino({ level: 'silent' });
  const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
  const chat = new FakeChat('irc');
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor.audit(e), adapters: [chat] });
  await chat.start((m) => router.handle(m));
  await executor.reinstall({ hosts: ['buildarm-01', 'buildarm-02'], by: kevin, origin: { adapter: 'irc', room: '#builders' } });
  await executor.idle();
  expect(executor.queue().map((j) => j.host).sort()).toEqual(['buildarm-01', 'buildarm-02']);
  /** Plays a line, returns rekick's replies. */
  const line = async (user: Identity, text: string, extra: { room?: string; interactive?: boolean } = {}) => {
    const before = chat.sent.length;
    await chat.say(user, text, extra.room ?? '#builders', { interactive: extra.interactive });
    return chat.sent.slice(before).map((s) => s.message.text);
  };
  return { executor, store, koji, chat, line };
}

describe('who may approve, deny and reinstall', () => {
  it.each<[string, Identity, string, RegExp, string?]>([
    ['a spoofed IRC nick (the approver\u2019s nick, no services account)', { source: 'irc', display: 'nirik' }, '!approve buildarm-01', /you are not logged in to services \(NickServ\), so rekick cannot tell who you are; this needs the approver role/],
    ['a spoofed nick approving all', { source: 'irc', display: 'nirik' }, '!approve all', /not logged in to services/],
    ['a spoofed nick denying', { source: 'irc', display: 'NiRiK' }, '!deny buildarm-01 nope', /not logged in to services/],
    ['a spoofed nick reinstalling', { source: 'irc', display: 'kevin' }, '!reinstall buildarm-03', /not logged in to services.*operator role/],
    ['the approver\u2019s account name from another source', { source: 'slack', id: 'nirik', display: 'nirik' }, '!approve buildarm-01', /needs the approver role, and slack:nirik does not have it/],
    ['an operator trying to approve', kevin, '!approve buildarm-01', /needs the approver role, and irc:kevin does not have it/],
    ['an operator trying to approve all with --override', kevin, '!approve all --override', /needs the approver role, and irc:kevin does not have it/],
    ['an operator trying to deny', kevin, '!deny buildarm-02 flaky disk', /needs the approver role, and irc:kevin does not have it/],
    ['an approver of another site\u2019s config', { source: 'irc', id: 'alice', display: 'alice' }, '!approve buildarm-01', /needs the approver role, and irc:alice does not have it/],
    ['another site\u2019s Slack approver clicking Approve', { source: 'slack', id: 'U0ALICE', display: 'alice' }, '!approve buildarm-02', /needs the approver role, and slack:U0ALICE does not have it/, 'click'],
    ['another site\u2019s operator reinstalling', { source: 'irc', id: 'bob', display: 'bob' }, '!reinstall buildarm-03', /needs the operator role, and irc:bob does not have it/],
    ['another site\u2019s operator cancelling', { source: 'irc', id: 'bob', display: 'bob' }, '!cancel buildarm-01', /needs the operator role, and irc:bob does not have it/],
  ])('%s: refused in one line, nothing changed, audited', async (_name, user, text, why, how) => {
    expect(createRoles(otherSite).rolesOf(user).length + createRoles(thisSite).rolesOf(user).length).toBeLessThanOrEqual(2);
    const { executor, store, koji, line } = await setup();
    const jobsBefore = JSON.stringify(store.listJobs());
    const kojiBefore = [...koji.calls];
    const replies = await line(user, text, { interactive: how === 'click' });
    expect(replies).toEqual([expect.stringMatching(why)]);
    expect(replies[0]).not.toContain('\n');
    await executor.idle();
    expect(JSON.stringify(store.listJobs())).toBe(jobsBefore);
    expect(koji.calls).toEqual(kojiBefore);
    expect([...koji.hosts.values()].map((h) => [h.name, h.enabled])).toEqual([
      ['buildarm-01', false],
      ['buildarm-02', false],
      ['buildarm-03', true],
    ]);
    expect(executor.queue().map((j) => j.host).sort()).toEqual(['buildarm-01', 'buildarm-02']);
    const refused = store.listAudit().filter((e) => e.outcome === 'refused');
    if (!user.id) {
      // No account: counted and logged, not stored one by one; the minute's summary names no one.
      expect(refused).toEqual([]);
      expect(executor.outsideRefusals.counts()).toEqual([{ source: 'irc', reason: 'no-account', count: 1 }]);
      executor.outsideRefusals.flush();
      expect(store.listAudit({ kind: 'refusals' })).toEqual([
        expect.objectContaining({ who: { source: 'irc', display: 'unidentified' }, action: 'chat', outcome: 'refused', count: 1 }),
      ]);
      return;
    }
    expect(refused).toEqual([
      expect.objectContaining({ who: user, origin: expect.objectContaining({ adapter: 'irc', room: '#builders' }), action: `!${text.slice(1).split(' ')[0]}`, detail: expect.stringMatching(why) }),
    ]);
    expect(executor.outsideRefusals.counts()).toEqual([]);
  });

  it('the same lines from the right identities do act (so the refusals above are about who, not what)', async () => {
    const { executor, store, koji, line } = await setup();
    expect(await line(nirik, '!approve buildarm-01')).toEqual([]);
    expect(await line({ source: 'irc', id: 'NIRIK', display: 'nirik_away' }, '!deny buildarm-02 flaky disk')).toEqual([]);
    await executor.idle();
    expect(store.listJobs().map((j) => [j.host, j.state]).sort()).toEqual([
      ['buildarm-01', 'succeeded'],
      ['buildarm-02', 'denied'],
    ]);
    expect(koji.hosts.get('buildarm-01')).toMatchObject({ enabled: true, comment: expect.stringMatching(/enabled on approval of irc:nirik/) });
    expect(koji.hosts.get('buildarm-02')).toMatchObject({ enabled: false, comment: expect.stringMatching(/denied by irc:NIRIK|denied/) });
    expect(store.listAudit().filter((e) => e.outcome === 'refused')).toEqual([]);
    expect(store.listAudit().filter((e) => e.action === 'approve')).toEqual([expect.objectContaining({ who: nirik, host: 'buildarm-01', outcome: 'ok' })]);
  });
});
