/**
 * What only the file-backed store does: survive a reopen, create a missing file, refuse (and leave alone) a file
 * it cannot use, migrate an older schema, roll back a failed write, never overlap writes, and stay flat in size.
 */
import * as nodeFs from 'node:fs/promises';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors';
import { STEP_NAMES, type AuditEntry, type Job, type JobState } from '../../src/model';
import type { AtomicFs } from '../../store/atomic-json-file';
import { createStore } from '../../store/index';
import { LowdbStore } from '../../store/lowdb-store';
import { MemoryStore } from '../../store/memory-store';
import { CURRENT_SCHEMA_VERSION } from '../../store/state-document';

const log = pino({ level: 'silent' });
const root = await mkdtemp(path.join(tmpdir(), 'rekick-store-lowdb-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let dir: string;
let file: string;
let seq = 0;
beforeEach(async () => {
  dir = path.join(root, `case-${++seq}`);
  await mkdir(dir);
  file = path.join(dir, 'rekick.json');
});

let n = 0;
function job(host: string, state: JobState = 'queued', createdAt = new Date(Date.UTC(2024, 0, 1) + ++n * 1000).toISOString()): Job {
  return {
    id: `j-${++n}`,
    host,
    state,
    createdAt,
    updatedAt: createdAt,
    requestedBy: { source: 'irc', id: 'kevin', display: 'kevin' },
    origin: { adapter: 'irc', room: '#builders' },
    options: {},
    steps: STEP_NAMES.map((name) => ({ name, status: 'pending', attempts: 0 })),
    current: 0,
    data: {},
  };
}

function audit(action: string, host?: string): AuditEntry {
  return { at: new Date().toISOString(), who: { source: 'irc', id: 'kevin', display: 'kevin' }, action, host, outcome: 'ok' };
}

async function opened(options: ConstructorParameters<typeof LowdbStore>[1] = {}, at = file): Promise<LowdbStore> {
  const store = new LowdbStore(at, { log, ...options });
  await store.open();
  return store;
}

async function expectRefused(at: string, pattern: RegExp): Promise<StoreError> {
  const err = await new LowdbStore(at, { log }).open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).message).toContain(at);
  expect((err as StoreError).message).toMatch(pattern);
  return err as StoreError;
}

describe('LowdbStore on disk', () => {
  it('keeps everything across a reopen, in the same order', async () => {
    const s1 = await opened();
    const t = '2024-03-01T00:00:00.000Z';
    const a = job('buildarm-01', 'succeeded', t);
    const b = job('buildarm-01', 'awaiting-approval', t);
    await s1.saveJob(a);
    await s1.saveJob(b);
    await s1.saveHost({ name: 'buildarm-01', lastJobId: a.id, lastOutcome: 'succeeded' });
    await s1.appendAudit(audit('reinstall', 'buildarm-01'));
    await s1.saveRolling({
      id: 'r-9', state: 'paused', startedAt: t, startedBy: a.requestedBy, origin: a.origin, fraction: 0.1,
      continuous: true, order: ['buildarm-01'], jobs: { 'buildarm-01': b.id }, done: [], failed: [], pausedReason: 'x',
    });
    await s1.close();

    const s2 = await opened();
    expect(s2.listJobs().map((j) => j.id)).toEqual([b.id, a.id]);
    expect(s2.getJob(a.id)).toEqual(a);
    expect(s2.activeJob('buildarm-01')?.id).toBe(b.id);
    expect(s2.getHost('buildarm-01')?.lastJobId).toBe(a.id);
    expect(s2.listAudit().map((e) => e.action)).toEqual(['reinstall']);
    expect(s2.getRolling()?.jobs).toEqual({ 'buildarm-01': b.id });
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('creates a missing file and its parent directories', async () => {
    const deep = path.join(dir, 'var', 'lib', 'rekick', 'state.json');
    const store = await opened({}, deep);
    expect(JSON.parse(await readFile(deep, 'utf8'))).toEqual({
      schemaVersion: CURRENT_SCHEMA_VERSION, jobs: [], hosts: {}, rolling: null, auditSeq: 0, audit: [],
    });
    await store.saveJob(job('a'));
    expect(JSON.parse(await readFile(deep, 'utf8')).jobs).toHaveLength(1);
  });

  it('leaves no temp file behind after writes', async () => {
    const store = await opened();
    await Promise.all([store.saveJob(job('a')), store.saveJob(job('b'))]);
    expect((await readdir(dir)).filter((f) => !f.endsWith('.lock'))).toEqual(['rekick.json']);
  });

  describe('refuses a file it cannot use, and leaves it byte-identical', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['garbage', 'this is \x00 not json {{{', /not valid JSON/],
      ['an empty file', '', /empty/],
      ['a JSON array', '[1,2,3]', /expected a JSON object/],
      ['no schemaVersion', '{"jobs":[]}', /schemaVersion/],
      ['a job without a host', JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION, jobs: [{ ...job('x'), host: undefined }], hosts: {}, rolling: null, auditSeq: 0, audit: [] }), /jobs\.0\.host/],
      ['an unknown job state', JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION, jobs: [{ ...job('x'), state: 'exploded' }], hosts: {}, rolling: null, auditSeq: 0, audit: [] }), /jobs\.0\.state/],
      ['a duplicated job id', JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION, jobs: [{ ...job('x'), id: 'same' }, { ...job('y'), id: 'same' }], hosts: {}, rolling: null, auditSeq: 0, audit: [] }), /appears more than once/],
      ['missing collections', JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION }), /jobs/],
    ];
    it.each(cases)('%s', async (_what, content, pattern) => {
      await writeFile(file, content);
      const before = await readFile(file);
      await expectRefused(file, pattern);
      expect(Buffer.compare(await readFile(file), before)).toBe(0);
      expect((await readdir(dir)).filter((f) => !f.endsWith('.lock'))).toEqual(['rekick.json']);
    });

    it('a file written by a newer rekick', async () => {
      const content = JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION + 1, jobs: [], hosts: {}, rolling: null, audit: [], future: true });
      await writeFile(file, content);
      await expectRefused(file, /newer rekick.*upgrade rekick/);
      expect(await readFile(file, 'utf8')).toBe(content);
    });

    it('a path that is a directory', async () => {
      await mkdir(file);
      await expectRefused(file, /cannot read the state file \(EISDIR/);
    });

    it('a path whose parent is a regular file', async () => {
      await writeFile(path.join(dir, 'not-a-dir'), 'x');
      await expectRefused(path.join(dir, 'not-a-dir', 'rekick.json'), /cannot create the directory/);
    });
  });

  it('migrates a version 1 file, keeping a copy of the original', async () => {
    const old = job('buildarm-07', 'failed');
    const v1 = JSON.stringify({
      schemaVersion: 1,
      jobs: [old],
      hosts: [{ name: 'buildarm-07', lastJobId: old.id, lastOutcome: 'failed' }, { name: 'buildarm-08' }],
      audit: [audit('reinstall', 'buildarm-07')],
    });
    await writeFile(file, v1);
    const store = await opened();
    expect(store.getHost('buildarm-07')?.lastOutcome).toBe('failed');
    expect(store.listHosts().map((h) => h.name)).toEqual(['buildarm-07', 'buildarm-08']);
    expect(store.getJob(old.id)).toEqual(old);
    expect(store.getRolling()).toBeUndefined();
    expect(await readFile(`${file}.v1.bak`, 'utf8')).toBe(v1);
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
    expect(onDisk.auditSeq).toBe(0);
    expect(Object.keys(onDisk.hosts)).toEqual(['buildarm-07', 'buildarm-08']);
    await store.close();
    expect((await opened()).listHosts()).toHaveLength(2);
  });

  it('runs injected migrations in order and refuses a gap', async () => {
    await writeFile(file, JSON.stringify({ schemaVersion: 1, jobs: [], hosts: [], audit: [], trail: [] }));
    const trail: string[] = [];
    const migrations = [
      { from: 1, to: 2, description: 'one', migrate: (d: Record<string, unknown>) => (trail.push('1->2'), { ...d, hosts: {}, rolling: null }) },
      { from: 2, to: 3, description: 'two', migrate: (d: Record<string, unknown>) => (trail.push('2->3'), { ...d, auditSeq: 0 }) },
      { from: 3, to: 4, description: 'three', migrate: (d: Record<string, unknown>) => (trail.push('3->4'), d) },
    ];
    await opened({ migrations });
    expect(trail).toEqual(['1->2', '2->3', '3->4']);

    const other = path.join(dir, 'gap.json');
    await writeFile(other, JSON.stringify({ schemaVersion: 1, jobs: [], hosts: [], audit: [] }));
    const err = await new LowdbStore(other, { log, migrations: [] }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/no migration from schema version 1/);
  });

  it('a failed write rejects with StoreError, marks the store unwritable and rolls back memory; a later write recovers', async () => {
    const store = await opened();
    const kept = job('buildarm-01', 'running');
    await store.saveJob(kept);
    await store.appendAudit(audit('reinstall', 'buildarm-01'));
    const onDiskBefore = await readFile(file, 'utf8');

    // Make the directory unusable even for root: replace it by a regular file.
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a directory');
    const lost = job('buildarm-02');
    const failed = store.saveJob(lost);
    const failedUpdate = store.saveJob({ ...kept, state: 'failed' });
    const failedAudit = store.appendAudit(audit('cancel', 'buildarm-01'));
    for (const p of [failed, failedUpdate, failedAudit]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/cannot write the state file \(ENOTDIR/);
      expect((err as Error).message).toContain(file);
    }
    expect(store.writable).toBe(false);
    expect(store.getJob(lost.id)).toBeUndefined();
    expect(store.getJob(kept.id)?.state).toBe('running');
    expect(store.activeJob('buildarm-01')?.id).toBe(kept.id);
    expect(store.listAudit().map((e) => e.action)).toEqual(['reinstall']);

    await rm(dir);
    await mkdir(dir);
    await writeFile(file, onDiskBefore);
    const later = job('buildarm-03');
    await store.saveJob(later);
    expect(store.writable).toBe(true);
    await store.close();
    const reopened = await opened();
    expect(reopened.listJobs().map((j) => j.id).sort()).toEqual([kept.id, later.id].sort());
    expect(reopened.getJob(kept.id)?.state).toBe('running');
  });

  it('rolls back only the failed write; changes queued behind it are re-applied and written next', async () => {
    let failNext = false;
    let release: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    let reachedRename: (() => void) | undefined;
    const atRename = new Promise<void>((r) => (reachedRename = r));
    const fs: AtomicFs = {
      ...nodeFs,
      rename: async (from, to) => {
        if (gate) {
          reachedRename!();
          await gate;
        }
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        return nodeFs.rename(from, to);
      },
    };
    const store = await opened({ fs });
    const base = job('buildarm-01', 'running');
    await store.saveJob(base);

    gate = new Promise((r) => (release = r));
    failNext = true;
    const lost = job('buildarm-09');
    const inFlight = store.saveJobs([{ ...base, state: 'failed', current: 3 }, lost]);
    await atRename; // the first write is now waiting at rename: what follows queues behind it
    const queued = store.saveJob({ ...base, current: 5, data: { note: 'queued' } });
    const other = store.saveJob(job('buildarm-02'));
    gate = undefined;
    release!();

    await expect(inFlight).rejects.toThrow(/ENOSPC/);
    expect(store.writable).toBe(false);
    await queued;
    await other;
    expect(store.writable).toBe(true);
    expect(store.getJob(base.id)).toMatchObject({ state: 'running', current: 5, data: { note: 'queued' } });
    expect(store.getJob(lost.id)).toBeUndefined();
    await store.close();
    const reopened = await opened();
    expect(reopened.getJob(base.id)).toMatchObject({ state: 'running', current: 5 });
    expect(reopened.listJobs()).toHaveLength(2);
    expect(reopened.getJob(lost.id)).toBeUndefined();
  });

  it('writes a temp file, fsyncs it, renames it over the file, then fsyncs the directory', async () => {
    const ops: string[] = [];
    const fs: AtomicFs = {
      ...nodeFs,
      open: (async (p: string, flags?: string, mode?: number) => {
        const fh = await nodeFs.open(p, flags, mode);
        const name = p === file ? 'file' : p === dir ? 'dir' : path.basename(p);
        ops.push(`open ${name}`);
        return new Proxy(fh, {
          get(target, prop) {
            const value = Reflect.get(target, prop, target);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (prop === 'writev' || prop === 'sync' || prop === 'close') ops.push(`${String(prop)} ${name}`);
              return value.apply(target, args);
            };
          },
        });
      }) as AtomicFs['open'],
      rename: async (from, to) => {
        ops.push(`rename ${path.basename(String(from))} -> ${path.basename(String(to))}`);
        return nodeFs.rename(from, to);
      },
    };
    const store = await opened({ fs });
    ops.length = 0;
    await store.saveJob(job('a'));
    expect(ops).toEqual([
      'open .rekick.json.tmp',
      'writev .rekick.json.tmp',
      'sync .rekick.json.tmp',
      'close .rekick.json.tmp',
      'rename .rekick.json.tmp -> rekick.json',
      'open dir',
      'sync dir',
      'close dir',
    ]);
  });

  it('never runs two writes at once, and coalesces changes made while one is in flight', async () => {
    let running = 0;
    let most = 0;
    let writes = 0;
    const fs: AtomicFs = {
      ...nodeFs,
      open: (async (p: string, flags?: string, mode?: number) => {
        if (flags === 'w') {
          running++;
          writes++;
          most = Math.max(most, running);
        }
        return nodeFs.open(p, flags, mode);
      }) as AtomicFs['open'],
      rename: async (from, to) => {
        await new Promise((r) => setTimeout(r, 2));
        await nodeFs.rename(from, to);
        running--;
      },
    };
    const store = await opened({ fs });
    writes = 0;
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      saves.push(store.saveJob(job(`h-${i % 10}`)));
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(saves);
    expect(most).toBe(1);
    expect(writes).toBeLessThan(200);
    await store.close();
    const reopened = await opened();
    expect(reopened.listJobs()).toHaveLength(200);
  });

  it('stays flat in size over a long rolling run of 1,000 hosts', async () => {
    const store = await opened({ keepFinishedPerHost: 3, maxAudit: 2000 });
    const hosts = Array.from({ length: 1000 }, (_, i) => `buildarm-${String(i).padStart(4, '0')}`);
    const sizes: number[] = [];
    for (let round = 0; round < 8; round++) {
      await store.saveJobs(hosts.map((h) => ({ ...job(h, 'succeeded'), endedAt: new Date().toISOString() })));
      await Promise.all(hosts.map((h) => store.appendAudit(audit('reinstall', h))));
      sizes.push((await stat(file)).size);
    }
    expect(store.listJobs()).toHaveLength(3000);
    expect(store.listAudit()).toHaveLength(2000);
    const steady = sizes.slice(3);
    for (const s of steady) expect(Math.abs(s - steady[0]!) / steady[0]!).toBeLessThan(0.01);
    expect(sizes[7]!).toBeLessThan(sizes[2]! * 1.05);
  });
});

describe('createStore', () => {
  it('gives the memory store for :memory: and the lowdb store for a path', async () => {
    expect(createStore(':memory:', { log })).toBeInstanceOf(MemoryStore);
    const s = createStore(file, { log });
    expect(s).toBeInstanceOf(LowdbStore);
    await s.open();
    expect(JSON.parse(await readFile(file, 'utf8')).schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('MemoryStore.failWrites makes writes fail and roll back', async () => {
    const s = new MemoryStore();
    await s.open();
    s.failWrites('disk full (simulated)');
    await expect(s.saveJob(job('a'))).rejects.toBeInstanceOf(StoreError);
    expect(s.writable).toBe(false);
    expect(s.listJobs()).toEqual([]);
    s.failWrites();
    await s.saveJob(job('a'));
    expect(s.writable).toBe(true);
  });
});

describe('one process per state file', () => {
  it('refuses a second open while the first holds the lock, takes over a stale lock, and read-only opens need none', async () => {
    const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LowdbStore } = await import('../../store/lowdb-store');
    const dir = mkdtempSync(join(tmpdir(), 'rekick-lock-'));
    const file = join(dir, 'rekick.json');
    const first = new LowdbStore(file);
    await first.open();
    const second = new LowdbStore(file);
    await expect(second.open()).rejects.toThrow(/this process \(pid \d+, started .*\) already holds .*rekick\.json\.lock: the state file is opened twice/);
    const reader = new LowdbStore(file, { lock: false });
    await reader.open();
    await reader.close();
    await first.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    writeFileSync(`${file}.lock`, '999999999\n'); // a pid that does not run
    const third = new LowdbStore(file);
    await third.open();
    await third.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
