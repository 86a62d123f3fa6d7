import { describe, expect, it } from 'vitest';
import { anonymous, kevin, nirik, stranger } from '../fakes/fake-executor';
import { createChatRig } from '../fakes/fake-chat';
import type { Identity } from '../../src/model';

/** Every refusal is exactly one line, changes nothing, and is audited as refused. */
async function expectRefusal(text: string, pattern: RegExp, user: Identity = kevin) {
  const rig = await createChatRig();
  const replies = await rig.line(user, text);
  expect(replies).toHaveLength(1);
  expect(replies[0]).not.toContain('\n');
  expect(replies[0]).toMatch(pattern);
  expect(rig.executor.store.listJobs()).toEqual([]);
  expect(rig.audit.at(-1)).toMatchObject({ who: user, outcome: 'refused' });
  return { rig, reply: replies[0]! };
}

describe('router refusals: one line that says why, nothing changed', () => {
  it.each<[string, string, RegExp, Identity?]>([
    ['unknown command, closest suggested', '!reinstal buildarm-03', /unknown command !reinstal — did you mean !reinstall\?/],
    ['unknown command far from any', '!frobnicate', /unknown command !frobnicate \(!help lists the commands\)/],
    ['unknown host, closest suggested', '!reinstall buildarm-3', /unknown host: buildarm-3 — did you mean buildarm-03\?; nothing queued/],
    ['unknown group', '!reinstall group:armm', /unknown group: armm — did you mean group:arm\?; nothing queued/],
    ['multi-host line with one bad host', '!reinstall buildarm-01 buildarm-02 nosuchhost', /unknown host: nosuchhost; nothing queued/],
    ['unknown option', '!reinstall buildarm-01 --forse-drain', /unknown option --forse-drain — usage: !reinstall HOST/],
    ['no host', '!reinstall', /name at least one host .*usage: !reinstall/],
    ['missing role: operator', '!reinstall buildarm-01', /needs the operator role, and irc:mallory does not have it/, stranger],
    ['missing role: approver', '!approve buildarm-01', /needs the approver role, and irc:kevin does not have it/, kevin],
    ['not logged in to services', '!cancel buildarm-01', /you are not logged in to services/, anonymous],
    ['unicode look-alike host (Cyrillic i)', '!reinstall bu\u0456ldarm-03', /unknown host: bu\u0456ldarm-03 \(has non-ASCII U\+0456\) — did you mean buildarm-03\?/],
    ['fullwidth look-alike host', '!reinstall ｂuildarm-03', /unknown host: .*non-ASCII U\+FF42.*did you mean buildarm-03\?/],
    ['shell metacharacters are just an unknown host', '!reinstall buildarm-01;rm -rf /', /unknown host: buildarm-01;rm — did you mean buildarm-01\?; nothing queued/],
    ['command substitution', '!reinstall $(reboot)', /unknown host: \$\(reboot\); nothing queued/],
    ['control characters', '!reinstall buildarm-01\x07', /control or invisible characters/],
    ['huge line', `!reinstall ${'buildarm-01 '.repeat(100)}`, /line too long/],
    ['cancel of an idle host', '!cancel buildarm-01', /buildarm-01 has no job to cancel/],
    ['retry of a host without a failed job', '!retry buildarm-01', /no failed job to retry/],
    ['approve of a host not waiting', '!approve buildarm-01', /buildarm-01 is not waiting for approval; nothing approved/, nirik],
    ['deny of a host not waiting', '!deny buildarm-01 flaky', /not waiting for approval; nothing denied/, nirik],
    ['approve all mixed with names', '!approve all buildarm-01', /either all or host names/, nirik],
    ['cancel with two hosts', '!cancel buildarm-01 buildarm-02', /name exactly one host — usage: !cancel HOST/],
    ['rolling without a scheduler', '!rolling status', /rolling reinstalls are not available/],
    ['bad rolling fraction', '!rolling start 1.5', /expected a fraction like 0.25 or 25%/],
    ['help for an unknown command', '!help reinstal', /no command !reinstal — did you mean !reinstall\?/],
  ])('%s', async (_name, text, pattern, user) => {
    await expectRefusal(text, pattern, user ?? kevin);
  });

  it('a multi-host line with one bad host queues nothing and never calls the executor', async () => {
    const rig = await createChatRig();
    await rig.line(kevin, '!reinstall buildarm-01 group:arm buildvm-01 buildarm-99');
    expect(rig.executor.calls).toEqual([]);
    expect(rig.executor.store.listJobs()).toEqual([]);
  });

  it('a busy host refused by the executor refuses the whole line', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-02', 'running', { current: 2 });
    const replies = await rig.line(kevin, '!reinstall buildarm-01 buildarm-02');
    expect(replies).toEqual([expect.stringMatching(/^!reinstall refused: buildarm-02 is already in job job-1; nothing queued$/)]);
    expect(rig.executor.store.listJobs().map((j) => j.host)).toEqual(['buildarm-02']);
  });

  it('lines not meant for rekick are ignored, even odd ones', async () => {
    const rig = await createChatRig();
    expect(await rig.line(kevin, 'reinstall buildarm-01 please')).toEqual([]);
    expect(await rig.line(kevin, 'x'.repeat(5000))).toEqual([]);
    expect(await rig.line(kevin, 'hi \x00\x07 there')).toEqual([]);
    expect(await rig.line(kevin, '!!!')).toEqual([]);
    expect(await rig.line(kevin, '!')).toEqual([]);
    expect(rig.audit).toEqual([]);
  });

  it('a private message needs no ! and its refusal goes to the sender', async () => {
    const rig = await createChatRig();
    await rig.line(stranger, 'reinstall buildarm-01', 'mallory');
    expect(rig.chat.sent).toHaveLength(1);
    expect(rig.chat.sent[0]!.target).toMatchObject({ room: 'mallory', private: true });
    expect(rig.chat.sent[0]!.message.text).toMatch(/needs the operator role/);
  });

  it('an executor UserError is shown as is; any other error is "internal error" and logged, never thrown', async () => {
    const rig = await createChatRig();
    rig.executor.failNext.set('reinstall', new Error('ECONNRESET secret-token=abc'));
    const replies = await rig.line(kevin, '!reinstall buildarm-01');
    expect(replies).toEqual([expect.stringMatching(/^internal error \(E_INTERNAL\), see the logs/)]);
    expect(replies[0]).not.toContain('secret');
    expect(rig.audit.at(-1)).toMatchObject({ action: '!reinstall', outcome: 'error' });
  });

  it('a failing adapter reply never makes handle reject', async () => {
    const rig = await createChatRig();
    rig.chat.failSends = true;
    await expect(rig.chat.say(kevin, '!frobnicate')).resolves.toBeUndefined();
    await expect(rig.chat.say(kevin, '!status')).resolves.toBeUndefined();
  });

  it('audits every command and refusal with who, where and what', async () => {
    const rig = await createChatRig();
    await rig.line(kevin, '!reinstall buildarm-01 --reason "kernel update"');
    await rig.line(stranger, '!cancel buildarm-01');
    await rig.line(kevin, '!nope');
    expect(rig.audit).toEqual([
      expect.objectContaining({ who: kevin, origin: { adapter: 'irc', room: '#builders' }, action: '!reinstall', outcome: 'ok', detail: 'reinstall buildarm-01 --reason "kernel update"' }),
      expect.objectContaining({ who: stranger, action: '!cancel', outcome: 'refused', detail: expect.stringMatching(/operator role/) }),
      expect.objectContaining({ who: kevin, action: 'chat', outcome: 'refused', detail: expect.stringMatching(/unknown command !nope/) }),
    ]);
    expect(rig.audit.every((e) => typeof e.at === 'string')).toBe(true);
  });
});
