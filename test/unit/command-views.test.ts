import { describe, expect, it } from 'vitest';
import { anonymous, kevin, nirik, stranger } from '../fakes/fake-executor';
import { createChatRig } from '../fakes/fake-chat';

const now = () => new Date();

describe('!status', () => {
  it('lists running and recent jobs, active first; anyone may ask', async () => {
    const rig = await createChatRig({ now });
    await rig.executor.seed('buildarm-01', 'succeeded', { endedAt: new Date(Date.now() - 3_600_000).toISOString() });
    await rig.executor.seed('buildarm-02', 'running', { current: 2 });
    const [text] = await rig.line(stranger, '!status');
    const lines = text!.split('\n');
    expect(lines[0]).toMatch(/^buildarm-02 running \[3\/8\] stage-installer for 1m \(job job-2, by kevin\)$/);
    expect(lines[1]).toMatch(/^buildarm-01 reinstalled 1h ago/);
  });

  it('says so when there are no jobs', async () => {
    const rig = await createChatRig();
    expect(await rig.line(kevin, '!status')).toEqual(['no jobs yet: !reinstall HOST starts one']);
  });

  it('shows one host step by step, with the running step’s progress line', async () => {
    const rig = await createChatRig({ now });
    const job = await rig.executor.seed('buildarm-03', 'running', { current: 1 });
    job.steps[1]!.progress = 'waiting for 2 tasks: 1234 (buildArch), 1235 (createrepo)';
    await rig.executor.store.saveJob(job);
    const [text] = await rig.line(kevin, '!status buildarm-03');
    const lines = text!.split('\n');
    expect(lines[0]).toMatch(/^buildarm-03 job job-1: running \[2\/8\] drain for 1m/);
    expect(lines[1]).toBe('  [1/8] disable ✓ succeeded 1.5s');
    expect(lines[2]).toBe('  [2/8] drain … running 1m — waiting for 2 tasks: 1234 (buildArch), 1235 (createrepo)');
    expect(lines[3]).toBe('  [3/8] stage-installer · pending');
    expect(lines).toHaveLength(9);
  });

  it('a host without jobs, and an unknown host', async () => {
    const rig = await createChatRig();
    expect(await rig.line(kevin, '!status buildarm-01')).toEqual(['buildarm-01 has no job yet: !reinstall buildarm-01 starts one']);
    expect(await rig.line(kevin, '!status buildarm-1')).toEqual([expect.stringMatching(/unknown host: buildarm-1 — did you mean buildarm-01\?/)]);
  });
});

describe('!queue', () => {
  it('lists waiting hosts oldest first with how long each waited', async () => {
    const rig = await createChatRig({ now });
    const old = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const recent = new Date(Date.now() - 5 * 60_000).toISOString();
    await rig.executor.seed('buildarm-02', 'awaiting-approval', { updatedAt: recent });
    const j1 = await rig.executor.seed('buildarm-01', 'awaiting-approval', { updatedAt: old });
    j1.steps[6]!.endedAt = old;
    await rig.executor.store.saveJob(j1);
    const [text] = await rig.line(stranger, '!queue');
    expect(text!.split('\n')).toEqual([
      expect.stringMatching(/^1\. buildarm-01 waiting 2h /),
      expect.stringMatching(/^2\. buildarm-02 waiting (1m|[5-6]m)/),
    ]);
  });

  it('says when nothing waits', async () => {
    const rig = await createChatRig();
    expect(await rig.line(kevin, '!queue')).toEqual(['no host is waiting for approval']);
  });
});

describe('!hosts', () => {
  it('one line per host: Koji state when known, current job, last reinstall', async () => {
    const rig = await createChatRig({
      now,
      hostsInfo: (h) => (h === 'buildarm-01' ? { enabled: true, comment: null } : h === 'buildarm-02' ? { enabled: false, comment: 'rekick: reinstalling' } : undefined),
    });
    await rig.executor.seed('buildarm-02', 'running', { current: 3 });
    await rig.executor.store.saveHost({ name: 'buildarm-01', lastReinstalledAt: new Date(Date.now() - 3 * 86_400_000).toISOString() });
    const [text] = await rig.line(kevin, '!hosts group:arm');
    expect(text!.split('\n')).toEqual([
      'buildarm-01 (aarch64 baremetal) koji: enabled; job: none; last reinstall 3d ago',
      expect.stringMatching(/^buildarm-02 \(aarch64 baremetal\) koji: disabled \("rekick: reinstalling"\); job: running \[4\/8\] reinstall for 1m; never reinstalled by rekick$/),
      'buildarm-03 (aarch64 baremetal) koji: ?; job: none; never reinstalled by rekick',
    ]);
    const [all] = await rig.line(kevin, '!hosts');
    expect(all!.split('\n')).toHaveLength(5);
  });
});

describe('!help and !whoami', () => {
  it('help lists every command; help COMMAND shows its usage and role', async () => {
    const rig = await createChatRig();
    const [list] = await rig.line(stranger, '!help');
    for (const c of ['reinstall', 'status', 'queue', 'approve', 'deny', 'cancel', 'retry', 'rolling', 'hosts', 'help', 'whoami']) expect(list).toContain(`!${c}`);
    expect(await rig.line(stranger, '!help approve')).toEqual([expect.stringMatching(/^usage: !approve HOST\.\.\. \| all \[--override\] — .* \(approver role\)$/)]);
    expect(await rig.line(stranger, '!help !status')).toEqual([expect.stringMatching(/^usage: !status \[HOST\] .*\(anyone\)$/)]);
  });

  it.each([
    [kevin, /^you are kevin \(irc:kevin\): roles operator$/],
    [nirik, /^you are nirik \(irc:nirik\): roles operator, approver$/],
    [stranger, /^you are mallory \(irc:mallory\): no roles/],
    [anonymous, /^you are guest42 \(irc, no identity\): no roles — you are not logged in to services/],
  ])('whoami for %j', async (user, pattern) => {
    const rig = await createChatRig();
    expect(await rig.line(user, '!whoami')).toEqual([expect.stringMatching(pattern)]);
  });

  it('console:operator holds every role in the lab config; IRC accounts match case-insensitively', async () => {
    const rig = await createChatRig();
    expect(await rig.line({ source: 'console', id: 'operator', display: 'alice' }, '!whoami')).toEqual(['you are alice (console:operator): roles operator, approver']);
    expect(await rig.line({ source: 'irc', id: 'Kevin', display: 'kev' }, '!whoami')).toEqual(['you are kev (irc:kevin): roles operator']);
  });
});
