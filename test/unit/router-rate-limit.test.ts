/**
 * Per-identity command rate limits in the router: past the burst, one notice, then silence until the bucket
 * refills; limited lines are counted and not audited; operators and approvers get more room and keep working
 * while someone floods; the lab console is not limited; chatter does not count; the bucket map is bounded.
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/chat/rate-limit';
import type { Identity } from '../../src/model';
import { FakeChat, createChatRig } from '../fakes/fake-chat';
import { anonymous, kevin, stranger } from '../fakes/fake-executor';

const LIMITS = { perMinute: 10, burst: 5, privilegedPerMinute: 60, privilegedBurst: 20 };

async function rig() {
  const slack = new FakeChat('slack', []);
  const limited: string[] = [];
  let t = Date.parse('2026-12-01T12:00:00Z');
  const r = await createChatRig({
    adapters: [slack],
    router: { rateLimit: LIMITS, onRateLimited: (adapter) => limited.push(adapter) },
    now: () => new Date(t),
  });
  return {
    ...r,
    slack,
    limited,
    advance: (ms: number) => {
      t += ms;
    },
    say: (user: Identity, text: string) => r.chat.say(user, text),
  };
}

describe('command rate limits', () => {
  it('1,000 lines from one user: the burst is answered, then one notice and nothing else; counted, not audited', async () => {
    const r = await rig();
    for (let i = 0; i < 1000; i++) await r.say(anonymous, i % 2 ? '!status' : '!nonsense');
    const texts = r.chat.texts('#builders');
    expect(texts).toHaveLength(6);
    expect(texts.slice(0, 5).filter((t) => t.startsWith('unknown command !nonsense'))).toHaveLength(3);
    expect(texts[5]).toMatch(/^slow down, guest42: at most 10 commands a minute; rekick ignores your commands for 6s$/);
    expect(r.limited).toHaveLength(995);
    // Only what was handled is audited: the three refusals (a read-only command's success is not audited).
    expect(r.audit.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused']);
  });

  it('after the bucket refills the user is answered again, and a new flood gets a new notice', async () => {
    const r = await rig();
    for (let i = 0; i < 20; i++) await r.say(stranger, '!queue');
    expect(r.chat.texts().filter((t) => t.startsWith('slow down'))).toHaveLength(1);
    r.advance(5_000);
    await r.say(stranger, '!queue');
    expect(r.chat.texts()).toHaveLength(6);
    r.advance(1_000);
    await r.say(stranger, '!queue');
    await r.say(stranger, '!queue');
    await r.say(stranger, '!queue');
    expect(r.chat.texts().slice(6)).toEqual(['no host is waiting for approval', expect.stringMatching(/^slow down, mallory: .* for 6s$/)]);
  });

  it('lines not meant for rekick do not count', async () => {
    const r = await rig();
    for (let i = 0; i < 100; i++) await r.say(anonymous, `just chatting ${i}`);
    for (let i = 0; i < 5; i++) await r.say(anonymous, '!queue');
    expect(r.chat.texts()).toEqual(Array(5).fill('no host is waiting for approval'));
    expect(r.limited).toEqual([]);
  });

  it('an operator has more room and keeps working while an anonymous user floods', async () => {
    const r = await rig();
    let answered = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 100; i++) await r.say(anonymous, '!hosts');
      const before = r.chat.texts().length;
      await r.say(kevin, round === 0 ? '!reinstall buildarm-01' : '!status');
      if (r.chat.texts().slice(before).some((t) => !t.startsWith('slow down'))) answered++;
    }
    expect(answered).toBe(9); // each !status answered (the reinstall's lines come from the notifier, not here)
    expect(r.executor.calls.map((c) => c.method)).toEqual(['reinstall']);
    // His reinstall is audited (his !status, read-only, is not) and each of his ten commands was answered.
    const kevins = r.audit.filter((e) => e.who.id === 'kevin');
    expect(kevins.map((e) => `${e.action} ${e.outcome}`)).toEqual(['!reinstall ok']);
    // Twenty at once for him; the twenty-first gets the notice.
    for (let i = 0; i < 11; i++) await r.say(kevin, '!status');
    expect(r.chat.texts().filter((t) => t.startsWith('slow down, kevin: at most 60 commands a minute'))).toHaveLength(1);
    expect(r.chat.texts().filter((t) => t.startsWith('slow down, guest42'))).toHaveLength(1);
  });

  it('the lab console is not limited', async () => {
    const r = await rig();
    const operator: Identity = { source: 'console', id: 'operator', display: 'me' };
    for (let i = 0; i < 200; i++) await r.say(operator, '!queue');
    expect(r.chat.texts()).toHaveLength(200);
    expect(r.limited).toEqual([]);
  });

  it('in Slack the notice of a slash command goes privately to the sender', async () => {
    const r = await rig();
    const user: Identity = { source: 'slack', id: 'U999', display: 'pat' };
    for (let i = 0; i < 8; i++) await r.slack.say(user, 'queue', 'C1', { isSlashCommand: true });
    const notice = r.slack.sent.find((s) => s.message.text.startsWith('slow down'));
    expect(notice?.message.ephemeralTo).toEqual(user);
    expect(r.slack.sent).toHaveLength(6);
    expect(r.limited).toEqual(['slack', 'slack', 'slack']);
  });
});

describe('RateLimiter', () => {
  it('remembers at most maxIdentities, forgetting the least recently seen first', () => {
    let t = 0;
    const limiter = new RateLimiter({ ...LIMITS, maxIdentities: 100, now: () => t });
    for (let i = 0; i < 6; i++) limiter.take('flooder', false);
    expect(limiter.take('flooder', false)).toMatchObject({ allowed: false, notify: false });
    for (let i = 0; i < 20_000; i++) {
      limiter.take(`nick${i}`, false);
      if (i % 50 === 0) limiter.take('flooder', false);
      t += 1;
    }
    expect(limiter.size).toBe(100);
    // The flooder kept writing, so it is remembered, and still limited.
    expect(limiter.take('flooder', false)).toMatchObject({ allowed: false });
  });

  it('refuses limits that are not above 0', () => {
    expect(() => new RateLimiter({ ...LIMITS, burst: 0 })).toThrow(/burst must be above 0/);
  });
});
