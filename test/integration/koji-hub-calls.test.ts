import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKojiClient, type KojiXmlRpcClient } from '../../src/koji/client';
import { KojiGenericError, KojiParameterError, KojiHubException } from '../../src/koji/errors';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { TASK_STATES } from '../../src/koji/types';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';

let pki: KojiTestPki;
let hub: HubStandin;
let koji: KojiXmlRpcClient;

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem } });
  hub.addUser('rekick', ['host']);
  hub.addHost('buildarm-03', { arches: 'aarch64', channels: ['default', 'image'] });
  hub.addHost('buildarm-04', { arches: 'aarch64' });
  hub.addHost('buildx86-01', { arches: 'x86_64 i686', enabled: false, comment: 'broken disk (alice)' });
  koji = createKojiClient({ server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, retry: { baseMs: 10, maxMs: 50, maxElapsedMs: 2_000 } });
});

afterAll(async () => {
  await koji?.close();
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

describe('hub calls rekick makes', () => {
  it('getHost of an unknown name is null, not a fault', async () => {
    expect(await koji.getHost('no-such-builder')).toBeNull();
    expect(await koji.getHost('buildx86-01')).toMatchObject({ name: 'buildx86-01', enabled: false, comment: 'broken disk (alice)', arches: 'x86_64 i686' });
  });

  it('listOpenTasks returns only the OPEN and ASSIGNED tasks of that host', async () => {
    const h3 = (await koji.getHost('buildarm-03'))!;
    const open = hub.createTask('buildarm-03', { method: 'buildArch', state: TASK_STATES.OPEN });
    const assigned = hub.createTask('buildarm-03', { method: 'createrepo', state: TASK_STATES.ASSIGNED });
    const closed = hub.createTask('buildarm-03', { method: 'buildArch', state: TASK_STATES.OPEN });
    hub.finishTask(closed.id);
    const failed = hub.createTask('buildarm-03', { state: TASK_STATES.OPEN });
    hub.finishTask(failed.id, TASK_STATES.FAILED);
    hub.createTask('buildarm-04', { state: TASK_STATES.OPEN });
    hub.createTask(null, { state: TASK_STATES.FREE });
    const tasks = await koji.listOpenTasks(h3.id);
    expect(tasks.map((t) => [t.id, t.method, t.state, t.host_id])).toEqual([
      [open.id, 'buildArch', 1, h3.id],
      [assigned.id, 'createrepo', 4, h3.id],
    ]);
    expect(tasks[0]!.create_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/); // times come back as strings
    expect(await koji.countOpenTasks(h3.id)).toBe(2);
    const call = hub.calls.filter((c) => c.method === 'listTasks').at(-2)!;
    expect(call.params).toEqual([{ state: [1, 4], host_id: h3.id }, { order: 'priority,create_time' }]);
    hub.finishTask(open.id);
    hub.finishTask(assigned.id);
    expect(await koji.listOpenTasks(h3.id)).toEqual([]);
  });

  it('disableHost with a comment in one multiCall; enableHost leaves the comment as it was', async () => {
    await koji.disableHost('buildarm-04', { comment: 'rekick: reinstalling (job 7)' });
    expect(hub.host('buildarm-04')).toMatchObject({ enabled: false, comment: 'rekick: reinstalling (job 7)' });
    const mc = hub.calls.filter((c) => c.method === 'multiCall').at(-1)!;
    expect(mc.params).toEqual([
      [
        { methodName: 'disableHost', params: ['buildarm-04'] },
        { methodName: 'editHost', params: ['buildarm-04', { comment: 'rekick: reinstalling (job 7)', __starstar: true }] },
      ],
    ]);
    await koji.enableHost('buildarm-04');
    expect(hub.host('buildarm-04')).toMatchObject({ enabled: true, comment: 'rekick: reinstalling (job 7)' });
    await koji.setHostComment('buildarm-04', '');
    expect(hub.host('buildarm-04')?.comment).toBe('');
  });

  it('listHosts passes its filters as keyword arguments', async () => {
    const enabled = await koji.listHosts({ arches: ['aarch64'], enabled: true });
    expect(enabled.map((h) => h.name).sort()).toEqual(['buildarm-03', 'buildarm-04']);
    const image = await koji.listHosts({ channelID: hub.state.channelByName('image')!.id });
    expect(image.map((h) => h.name)).toEqual(['buildarm-03']);
    expect(hub.calls.filter((c) => c.method === 'listHosts').at(-2)!.params).toEqual([{ arches: ['aarch64'], enabled: true, __starstar: true }]);
  });

  it('a multiCall is not atomic: every result is read, failures and successes alike', async () => {
    const results = await koji.multiCall([
      { method: 'getHost', args: ['buildarm-03'] },
      { method: 'disableHost', args: ['no-such-builder'] },
      { method: 'noSuchMethod' },
      { method: 'editHost', args: ['buildarm-03'], kwargs: { comment: 'kept' } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, value: { name: 'buildarm-03' } });
    expect(results[1]).toMatchObject({ ok: false });
    expect(results[1]!.ok === false && results[1]!.error).toBeInstanceOf(KojiGenericError);
    expect(results[1]!.ok === false && results[1]!.error.faultString).toBe('host does not exist: no-such-builder');
    expect(results[2]!.ok === false && results[2]!.error.faultString).toBe('Invalid method: noSuchMethod');
    expect(results[3]).toEqual({ ok: true, value: true }); // ran although earlier calls failed
    expect(hub.host('buildarm-03')?.comment).toBe('kept');
  });

  it('maps faults to typed errors with the hub words kept', async () => {
    const p = await koji.callMethod('getHost', ['a', false, null, 'extra']).catch((e: unknown) => e);
    expect(p).toBeInstanceOf(KojiParameterError);
    expect((p as KojiParameterError).faultCode).toBe(1019);
    const g = await koji.disableHost('no-such-builder').catch((e: unknown) => e);
    expect(g).toBeInstanceOf(KojiGenericError);
    expect((g as Error).message).toBe('Koji hub refused disableHost: host does not exist: no-such-builder');
    const k = await koji.callMethod('editHost', ['buildarm-03'], { comment: 5 }).catch((e: unknown) => e);
    expect(k).toBeInstanceOf(KojiParameterError);
    expect(k).not.toBeInstanceOf(KojiHubException);
  });

  it('tells onCall of every API call by its API name (metrics): results and errors pass through unchanged', async () => {
    const calls: Array<{ method: string; ms: number; error?: unknown }> = [];
    const watched = createKojiClient({
      server: hub.url,
      cert: pki.clients.rekick!.pemPath,
      serverca: pki.ca.certPath,
      retry: { baseMs: 10, maxMs: 50, maxElapsedMs: 2_000 },
      onCall: (c) => {
        calls.push(c);
        throw new Error('a failing listener does not break the call');
      },
    });
    try {
      expect((await watched.getHost('buildarm-04'))?.name).toBe('buildarm-04');
      const g = await watched.disableHost('no-such-builder', { comment: 'x' }).catch((e: unknown) => e);
      expect(g).toBeInstanceOf(KojiGenericError);
      expect(calls.map((c) => [c.method, 'error' in c])).toEqual([
        ['getHost', false],
        ['disableHost', true], // a multiCall on the wire, disableHost to its caller
      ]);
      expect(calls[1]!.error).toBe(g);
      expect(calls.every((c) => c.ms >= 0)).toBe(true);
    } finally {
      await watched.close();
    }
  });

  it('speaks the rest of what a Koji client expects: hello, getAPIVersion, listChannels', async () => {
    expect(await koji.callMethod('hello')).toBe('Hello World');
    expect(await koji.getAPIVersion()).toBe(1);
    expect(await koji.callMethod('listChannels', [], { hostID: 'buildarm-03' })).toEqual([
      expect.objectContaining({ name: 'default' }),
      expect.objectContaining({ name: 'image' }),
    ]);
    expect(await koji.getPerms()).toEqual(['host']);
  });
});

describe('hub stand-in set-up', () => {
  it('takes its TLS material and seed users, channels and hosts flat (as the lab passes them)', async () => {
    const seeded = await startHubStandin({
      key: pki.hub.keyPem,
      cert: pki.hub.certPem,
      ca: pki.ca.certPem,
      users: [{ name: 'rekick', perms: ['host'] }],
      channels: ['image'],
      hosts: [{ name: 'buildarm-09', arches: 'aarch64', channels: ['default', 'image'], enabled: false, comment: 'seeded' }],
    });
    try {
      const c = createKojiClient({ server: seeded.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath });
      expect(await c.getHost('buildarm-09')).toMatchObject({ enabled: false, comment: 'seeded' });
      await c.enableHost('buildarm-09');
      expect(seeded.host('buildarm-09')).toMatchObject({ enabled: true, comment: 'seeded' });
      await c.close();
    } finally {
      await seeded.stop();
    }
  });
});
