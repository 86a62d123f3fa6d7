import { describe, expect, it } from 'vitest';
import { kevin, nirik } from '../fakes/fake-executor';
import { createChatRig } from '../fakes/fake-chat';

const origin = { adapter: 'irc', room: '#builders' };

describe('!reinstall', () => {
  it('queues each host, with groups expanded, --force-drain and --reason passed, and says nothing more itself', async () => {
    const rig = await createChatRig();
    const replies = await rig.line(kevin, '!reinstall group:arm buildvm-01 buildarm-01 --force-drain --reason "kernel 6.9"');
    expect(replies).toEqual([]);
    expect(rig.executor.calls).toEqual([
      {
        method: 'reinstall',
        args: [{ by: kevin, origin, hosts: ['buildarm-01', 'buildarm-02', 'buildarm-03', 'buildvm-01'], forceDrain: true, reason: 'kernel 6.9' }],
      },
    ]);
    expect(rig.executor.store.listJobs({ states: ['queued'] }).map((j) => j.host).sort()).toEqual(['buildarm-01', 'buildarm-02', 'buildarm-03', 'buildvm-01']);
  });

  it('accepts --reason=TEXT and works addressed by name', async () => {
    const rig = await createChatRig();
    await rig.line(kevin, 'rekick: reinstall buildarm-03 --reason=disk');
    expect(rig.executor.calls[0]!.args[0]).toMatchObject({ hosts: ['buildarm-03'], reason: 'disk', forceDrain: undefined });
  });

  it('an approver may reinstall too (approver implies operator)', async () => {
    const rig = await createChatRig();
    await rig.line(nirik, '!reinstall buildarm-03');
    expect(rig.executor.store.activeJob('buildarm-03')?.requestedBy).toEqual(nirik);
  });
});

describe('!approve and !deny', () => {
  it('approves named hosts', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-01', 'awaiting-approval');
    await rig.executor.seed('buildarm-02', 'awaiting-approval');
    expect(await rig.line(nirik, '!approve buildarm-01 buildarm-02')).toEqual([]);
    expect(rig.executor.calls[0]).toEqual({ method: 'approve', args: [['buildarm-01', 'buildarm-02'], { by: nirik, origin, override: undefined }] });
    expect(rig.executor.store.activeJob('buildarm-02')?.state).toBe('enabling');
  });

  it('approve all says which hosts were left for --override', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-01', 'awaiting-approval');
    await rig.executor.seed('buildarm-02', 'awaiting-approval', { kojiBefore: { enabled: false, comment: 'broken fan' } });
    const replies = await rig.line(nirik, '!approve all');
    expect(replies).toEqual([expect.stringMatching(/^approved 1: buildarm-01; not approved .*: buildarm-02 — !approve HOST --override/)]);
    expect(rig.executor.store.activeJob('buildarm-02')?.state).toBe('awaiting-approval');
    await rig.line(nirik, '!approve buildarm-02 --override');
    expect(rig.executor.calls.at(-1)!.args[1]).toMatchObject({ override: true });
  });

  it('denies with the rest of the line as the reason', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-03', 'awaiting-approval');
    await rig.line(nirik, '!deny buildarm-03 disk errors in dmesg');
    expect(rig.executor.calls[0]).toEqual({ method: 'deny', args: ['buildarm-03', { by: nirik, origin, reason: 'disk errors in dmesg' }] });
    expect(rig.executor.store.listJobs({ host: 'buildarm-03' })[0]!.state).toBe('denied');
  });
});

describe('!cancel and !retry', () => {
  it('cancel of a running job says it stops at the next safe point', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-03', 'running', { current: 1 });
    const replies = await rig.line(kevin, '!cancel buildarm-03');
    expect(replies).toEqual([expect.stringMatching(/^buildarm-03: cancel requested; job job-1 stops at the next safe point and the host stays disabled in Koji$/)]);
    expect(rig.executor.store.activeJob('buildarm-03')?.cancel?.by).toEqual(kevin);
  });

  it('retry names the step it resumes from', async () => {
    const rig = await createChatRig();
    await rig.executor.seed('buildarm-03', 'failed', { current: 4 });
    const replies = await rig.line(kevin, '!retry buildarm-03');
    expect(replies).toEqual(['buildarm-03: retrying job job-1 from [5/8] wait-ssh']);
    expect(rig.executor.calls[0]).toEqual({ method: 'retry', args: ['buildarm-03', { by: kevin, origin }] });
  });
});
