/**
 * One contract for every Store: the memory store and the lowdb store (in a temp dir) must behave alike.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { StoreBase } from '../../store/store-base';
import { LowdbStore } from '../../store/lowdb-store';
import { MemoryStore } from '../../store/memory-store';
import type { Store } from '../../store/store';
import type { StoreLimits } from '../../store/store-limits';
import { StoreError } from '../../src/errors';
import { type AuditEntry, type Job, type JobState, type RollingRun } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

let clock = Date.parse('2024-05-01T00:00:00Z');
function at(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

let n = 0;
function job(host: string, state: JobState = 'queued', extra: Partial<Job> = {}): Job {
  const t = at();
  return makeJob({ host, id: `j-${++n}`, state, createdAt: t, updatedAt: t, ...extra });
}

function audit(action: string, host?: string, when = at()): AuditEntry {
  return { at: when, who: { source: 'slack', id: 'U1', display: 'nirik' }, action, host, outcome: 'ok' };
}

function rolling(): RollingRun {
  return {
    id: 'r-1',
    state: 'running',
    startedAt: at(),
    startedBy: { source: 'irc', id: 'kevin', display: 'kevin' },
    origin: { adapter: 'irc', room: '#builders' },
    fraction: 0.25,
    continuous: false,
    order: ['buildarm-01', 'buildarm-02'],
    jobs: {},
    done: [],
    failed: [],
  };
}

type Factory = (limits?: Partial<StoreLimits>) => Promise<Store>;

const factories: Array<[string, Factory]> = [
  ['MemoryStore', async (limits = {}) => new MemoryStore(limits)],
  [
    'LowdbStore',
    async (limits = {}) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'rekick-store-contract-'));
      dirs.push(dir);
      return new LowdbStore(path.join(dir, 'state.json'), limits);
    },
  ],
];

describe.each(factories)('Store contract: %s', (_name, make) => {
  let store: Store;
  beforeEach(async () => {
    store = await make();
    await store.open();
  });

  it('starts empty and writable', () => {
    expect(store.listJobs()).toEqual([]);
    expect(store.listHosts()).toEqual([]);
    expect(store.listAudit()).toEqual([]);
    expect(store.getRolling()).toBeUndefined();
    expect(store.writable).toBe(true);
  });

  it('saves, gets and replaces a job by id', async () => {
    const j = job('buildarm-01');
    await store.saveJob(j);
    expect(store.getJob(j.id)).toEqual(j);
    await store.saveJob({ ...j, state: 'running', current: 2 });
    expect(store.getJob(j.id)?.state).toBe('running');
    expect(store.getJob(j.id)?.current).toBe(2);
    expect(store.listJobs()).toHaveLength(1);
    expect(store.getJob('nope')).toBeUndefined();
  });

  it('returns deep copies: neither the saved object nor a returned one can change the store', async () => {
    const j = job('buildarm-01');
    await store.saveJob(j);
    j.steps[0]!.status = 'failed';
    j.data.x = 1;
    expect(store.getJob(j.id)?.steps[0]?.status).toBe('pending');
    const got = store.getJob(j.id)!;
    got.state = 'failed';
    got.steps[1]!.attempts = 9;
    store.listJobs()[0]!.data.y = 2;
    store.activeJob('buildarm-01')!.host = 'other';
    const again = store.getJob(j.id)!;
    expect(again.state).toBe('queued');
    expect(again.steps[1]?.attempts).toBe(0);
    expect(again.data).toEqual({});
    expect(store.activeJob('buildarm-01')?.id).toBe(j.id);
  });

  it('peeks without copying: the same content as getJob and listJobs, and a later save replaces what was peeked', async () => {
    const a = job('buildarm-01', 'succeeded');
    const b = job('buildarm-01', 'running');
    await store.saveJobs([a, b]);
    expect(store.peekJob(a.id)).toEqual(store.getJob(a.id));
    expect(store.peekJob(a.id)).toBe(store.peekJob(a.id)); // no copy
    expect(store.peekJobs({ host: 'buildarm-01' })).toEqual(store.listJobs({ host: 'buildarm-01' }));
    expect(store.peekJobs({ host: 'buildarm-01', states: ['running'], limit: 1 }).map((j) => j.id)).toEqual([b.id]);
    const peeked = store.peekJob(b.id)!;
    await store.saveJob({ ...b, state: 'failed' });
    expect(peeked.state).toBe('running'); // what a reader holds does not change under it
    expect(store.peekJob(b.id)?.state).toBe('failed');

    await store.saveHost({ name: 'buildarm-01', lastJobId: a.id, lastOutcome: 'succeeded' });
    const host = store.peekHost('buildarm-01')!;
    expect(host).toEqual(store.getHost('buildarm-01'));
    expect(store.peekHost('buildarm-01')).toBe(host); // no copy
    expect(store.peekHost('nobody')).toBeUndefined();
    await store.saveHost({ name: 'buildarm-01', lastJobId: b.id, lastOutcome: 'failed' });
    expect(host.lastOutcome).toBe('succeeded');
    expect(store.peekHost('buildarm-01')?.lastOutcome).toBe('failed');
  });

  it('lists jobs newest first, filtered by host and state, with a limit', async () => {
    const a = job('buildarm-01', 'succeeded');
    const b = job('buildarm-02', 'running');
    const c = job('buildarm-01', 'failed');
    const d = job('buildarm-01', 'queued');
    await store.saveJobs([a, b, c, d]);
    expect(store.listJobs().map((j) => j.id)).toEqual([d.id, c.id, b.id, a.id]);
    expect(store.listJobs({ host: 'buildarm-01' }).map((j) => j.id)).toEqual([d.id, c.id, a.id]);
    expect(store.listJobs({ states: ['failed', 'succeeded'] }).map((j) => j.id)).toEqual([c.id, a.id]);
    expect(store.listJobs({ host: 'buildarm-01', states: ['running'] })).toEqual([]);
    expect(store.listJobs({ limit: 2 }).map((j) => j.id)).toEqual([d.id, c.id]);
    expect(store.listJobs({ host: 'nohost' })).toEqual([]);
  });

  it('orders jobs created at the same instant by when they were first saved (later = newer)', async () => {
    const t = at();
    const first = job('buildarm-01', 'succeeded', { createdAt: t });
    const second = job('buildarm-01', 'succeeded', { createdAt: t });
    await store.saveJob(first);
    await store.saveJob(second);
    await store.saveJob({ ...first, updatedAt: at() });
    expect(store.listJobs().map((j) => j.id)).toEqual([second.id, first.id]);
    // A host's newest job (limit 1, the rolling scheduler's question) agrees with the full list.
    expect(store.listJobs({ host: 'buildarm-01', limit: 1 }).map((j) => j.id)).toEqual([second.id]);
    expect(store.peekJobs({ host: 'buildarm-01', states: ['succeeded'], limit: 1 }).map((j) => j.id)).toEqual([second.id]);
    const third = job('buildarm-01', 'running', { createdAt: t });
    await store.saveJob(third);
    expect(store.peekJobs({ host: 'buildarm-01', limit: 1 }).map((j) => j.id)).toEqual([third.id]);
    expect(store.peekJobs({ host: 'buildarm-01', states: ['succeeded'], limit: 1 }).map((j) => j.id)).toEqual([second.id]);
    expect(store.activeJob('buildarm-01')?.id).toBe(third.id);
  });

  it('finds the active job of a host and none once it is finished', async () => {
    const old = job('buildarm-01', 'failed');
    const cur = job('buildarm-01', 'awaiting-approval');
    await store.saveJobs([old, cur, job('buildarm-02', 'running')]);
    expect(store.activeJob('buildarm-01')?.id).toBe(cur.id);
    await store.saveJob({ ...cur, state: 'succeeded', endedAt: at() });
    expect(store.activeJob('buildarm-01')).toBeUndefined();
    expect(store.activeJob('buildarm-02')?.host).toBe('buildarm-02');
    expect(store.activeJob('buildarm-09')).toBeUndefined();
  });

  it('moves a job to another host when it is saved with a different host', async () => {
    const j = job('buildarm-01');
    await store.saveJob(j);
    await store.saveJob({ ...j, host: 'buildarm-02' });
    expect(store.activeJob('buildarm-01')).toBeUndefined();
    expect(store.listJobs({ host: 'buildarm-01' })).toEqual([]);
    expect(store.activeJob('buildarm-02')?.id).toBe(j.id);
  });

  it('saves several jobs at once', async () => {
    const jobs = [job('a'), job('b'), job('c')];
    await store.saveJobs(jobs);
    expect(store.listJobs().map((j) => j.host).sort()).toEqual(['a', 'b', 'c']);
  });

  it('refuses a job without an id or host', async () => {
    await expect(store.saveJob({ ...job('a'), id: '' })).rejects.toBeInstanceOf(StoreError);
    await expect(store.saveJobs([job('a'), { ...job('b'), host: '' }])).rejects.toBeInstanceOf(StoreError);
    expect(store.listJobs()).toEqual([]);
  });

  it('keeps host records, sorted by name, as copies', async () => {
    await store.saveHost({ name: 'buildarm-02', lastOutcome: 'failed' });
    await store.saveHost({ name: 'buildarm-01', lastJobId: 'j-1', lastReinstalledAt: at(), lastOutcome: 'succeeded' });
    await store.saveHost({ name: 'buildarm-02', lastOutcome: 'succeeded' });
    expect(store.listHosts().map((h) => [h.name, h.lastOutcome])).toEqual([
      ['buildarm-01', 'succeeded'],
      ['buildarm-02', 'succeeded'],
    ]);
    store.getHost('buildarm-01')!.lastJobId = 'changed';
    expect(store.getHost('buildarm-01')?.lastJobId).toBe('j-1');
    expect(store.getHost('nope')).toBeUndefined();
  });

  it('keeps the rolling run, replaces and clears it', async () => {
    const run = rolling();
    await store.saveRolling(run);
    expect(store.getRolling()).toEqual(run);
    store.getRolling()!.done.push('x');
    expect(store.getRolling()?.done).toEqual([]);
    await store.saveRolling({ ...run, state: 'paused', pausedReason: 'failure on buildarm-01' });
    expect(store.getRolling()?.state).toBe('paused');
    await store.saveRolling(undefined);
    expect(store.getRolling()).toBeUndefined();
  });

  it('appends audit entries and filters them by host, since and limit (oldest first)', async () => {
    const e1 = audit('reinstall', 'buildarm-01', '2024-06-01T10:00:00.000Z');
    const e2 = audit('approve', 'buildarm-02', '2024-06-01T11:00:00.000Z');
    const e3 = audit('rolling-start', undefined, '2024-06-01T12:00:00.000Z');
    const e4 = audit('cancel', 'buildarm-01', '2024-06-01T13:00:00.000Z');
    for (const e of [e1, e2, e3, e4]) await store.appendAudit(e);
    expect(store.listAudit()).toEqual([e1, e2, e3, e4]);
    expect(store.listAudit({ host: 'buildarm-01' })).toEqual([e1, e4]);
    expect(store.listAudit({ since: '2024-06-01T11:00:00.000Z' })).toEqual([e2, e3, e4]);
    expect(store.listAudit({ limit: 2 })).toEqual([e3, e4]);
    expect(store.listAudit({ host: 'buildarm-01', since: '2024-06-01T12:00:00.000Z', limit: 5 })).toEqual([e4]);
    store.listAudit()[0]!.action = 'changed';
    expect(store.listAudit()[0]?.action).toBe('reinstall');
  });

  it('keeps every unfinished job and only the newest N finished ones per host', async () => {
    store = await make({ keepFinishedPerHost: 3 });
    await store.open();
    const active = job('buildarm-01', 'awaiting-approval');
    await store.saveJob(active);
    const finished: Job[] = [];
    for (let i = 0; i < 10; i++) {
      const j = job('buildarm-01', 'queued');
      await store.saveJob(j);
      const done = { ...j, state: (i % 2 ? 'failed' : 'succeeded') as JobState, endedAt: at() };
      await store.saveJob(done);
      finished.push(done);
    }
    await store.saveJob(job('buildarm-02', 'cancelled'));
    const kept = store.listJobs({ host: 'buildarm-01' }).map((j) => j.id);
    expect(kept).toEqual([...finished.slice(-3).reverse().map((j) => j.id), active.id]);
    expect(store.getJob(finished[0]!.id)).toBeUndefined();
    expect(store.activeJob('buildarm-01')?.id).toBe(active.id);
    expect(store.listJobs({ host: 'buildarm-02' })).toHaveLength(1);
  });

  it('drops the oldest audit entries beyond maxAudit', async () => {
    store = await make({ maxAudit: 5 });
    await store.open();
    for (let i = 0; i < 12; i++) await store.appendAudit(audit(`a${i}`));
    expect(store.listAudit().map((e) => e.action)).toEqual(['a7', 'a8', 'a9', 'a10', 'a11']);
  });

  it('keeps security actions apart: no number of refusals pushes one out, and none costs a write', async () => {
    store = await make({ maxAudit: 5, refusalsMax: 10 });
    await store.open();
    const actions = [audit('reinstall', 'buildarm-01'), audit('approve', 'buildarm-01'), audit('rolling-start')];
    for (const e of actions) await store.appendAudit(e);
    const writes = (store as StoreBase).documentWrites;
    for (let i = 0; i < 300; i++) {
      const refusal: AuditEntry = { ...audit(`!approve`, 'buildarm-01'), who: { source: 'irc', id: `user${i}`, display: `user${i}` }, outcome: 'refused', detail: `no role (${i})` };
      // Both ways in: a refusal given to appendAudit goes to the refusal list too.
      if (i % 2) store.noteRefusal(refusal, { flushSoon: i % 4 === 1 });
      else await store.appendAudit(refusal);
    }
    expect(store.listAudit({ kind: 'actions' })).toEqual(actions);
    const refusals = store.listAudit({ kind: 'refusals' });
    expect(refusals.map((e) => e.detail)).toEqual(Array.from({ length: 10 }, (_, i) => `no role (${290 + i})`));
    expect(store.listAudit()).toHaveLength(13);
    expect((store as StoreBase).documentWrites).toBe(writes);
  });

  it('coalesces a repeated refusal into one entry with its count and last time, and lists both kinds by time', async () => {
    const t = (m: number) => new Date(Date.parse('2026-11-01T10:00:00.000Z') + m * 60_000).toISOString();
    const bob = { source: 'irc' as const, id: 'bob', display: 'bob' };
    const refused = (m: number, detail: string, host?: string): AuditEntry => ({ at: t(m), who: bob, origin: { adapter: 'irc', room: '#builders' }, action: '!cancel', host, outcome: 'refused', detail });
    await store.appendAudit({ ...audit('reinstall', 'buildarm-01', t(0)) });
    store.noteRefusal(refused(1, 'needs the operator role'));
    store.noteRefusal(refused(2, 'unknown host', 'nope'));
    await store.appendAudit({ ...audit('approve', 'buildarm-01', t(3)) });
    store.noteRefusal(refused(4, 'needs the operator role'));
    store.noteRefusal(refused(5, 'needs the operator role'));
    expect(store.listAudit().map((e) => [e.at, e.action, e.outcome, e.count ?? 1, e.lastAt ?? null])).toEqual([
      [t(0), 'reinstall', 'ok', 1, null],
      [t(1), '!cancel', 'refused', 3, t(5)],
      [t(2), '!cancel', 'refused', 1, null],
      [t(3), 'approve', 'ok', 1, null],
    ]);
    expect(store.listAudit({ kind: 'refusals', host: 'nope' }).map((e) => e.detail)).toEqual(['unknown host']);
    // since: a coalesced refusal counts by its last time; limit keeps the newest.
    expect(store.listAudit({ since: t(4) }).map((e) => e.action)).toEqual(['!cancel']);
    expect(store.listAudit({ limit: 2 }).map((e) => e.at)).toEqual([t(2), t(3)]);
    expect(store.listAudit({ kind: 'actions', since: t(1) }).map((e) => e.action)).toEqual(['approve']);
    store.listAudit({ kind: 'refusals' })[0]!.count = 99;
    expect(store.listAudit({ kind: 'refusals' })[0]!.count).toBe(3);
  });

  it('drops security actions older than auditMaxAge', async () => {
    store = await make({ auditMaxAge: 86_400_000 });
    await store.open();
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    await store.appendAudit(audit('reinstall', 'buildarm-01', ago(3)));
    await store.appendAudit(audit('approve', 'buildarm-01', ago(2)));
    // An entry is appended whatever its own time says; the older ones past the age go.
    expect(store.listAudit().map((e) => e.action)).toEqual(['approve']);
    await store.appendAudit(audit('deny', 'buildarm-02', ago(0.5)));
    await store.appendAudit(audit('cancel', 'buildarm-03', ago(0)));
    expect(store.listAudit().map((e) => e.action)).toEqual(['deny', 'cancel']);
  });

  it('coalesces changes made together, and each resolves once written', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => job(`h-${i % 5}`));
    await Promise.all([...jobs.map((j) => store.saveJob(j)), store.appendAudit(audit('x')), store.saveRolling(rolling())]);
    expect(store.listJobs()).toHaveLength(50);
    expect(store.listAudit()).toHaveLength(1);
    expect(store.getRolling()?.id).toBe('r-1');
  });

  it('refuses changes after close', async () => {
    await store.saveJob(job('a'));
    await store.close();
    await expect(store.saveJob(job('b'))).rejects.toBeInstanceOf(StoreError);
  });
});
