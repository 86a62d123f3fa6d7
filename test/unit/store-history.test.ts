/**
 * The state file keeps the live work; older finished jobs and audit entries move to the history file beside it.
 * Proves: nothing is lost or duplicated across a reopen, the state file stays the size of the recent work however
 * long the history, a job changed after it moved (retried) comes back in its newest version, a crash between the
 * two files' writes loses nothing, a torn last history line is survived and repaired, a damaged one is refused.
 */
import * as nodeFs from 'node:fs/promises';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors';
import type { AuditEntry, Job, JobState } from '../../src/model';
import type { AtomicFs } from '../../store/atomic-json-file';
import { historyPathFor } from '../../store/history-file';
import { LowdbStore, type LowdbStoreOptions } from '../../store/lowdb-store';
import { jsonBytes } from '../../store/json-bytes';
import { makeJob } from '../fakes/jobs';

const log = pino({ level: 'silent' });
const root = await mkdtemp(path.join(tmpdir(), 'rekick-store-history-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let dir: string;
let file: string;
let history: string;
let seq = 0;
beforeEach(async () => {
  dir = path.join(root, `case-${++seq}`);
  await mkdir(dir);
  file = path.join(dir, 'rekick.json');
  history = historyPathFor(file);
});

let n = 0;
function job(host: string, state: JobState = 'succeeded'): Job {
  const at = new Date(Date.UTC(2026, 0, 1) + ++n * 1000).toISOString();
  return makeJob({ host, id: `j-${n}`, state, createdAt: at, updatedAt: at });
}
function audit(action: string, host?: string): AuditEntry {
  return { at: new Date(Date.UTC(2026, 0, 1) + ++n * 1000).toISOString(), who: { source: 'irc', id: 'kevin', display: 'kevin' }, action, host, outcome: 'ok' };
}

async function opened(options: LowdbStoreOptions = {}): Promise<LowdbStore> {
  const store = new LowdbStore(file, { log, recentFinishedJobs: 2, recentAudit: 3, ...options });
  await store.open();
  return store;
}
const stateFile = async () => JSON.parse(await readFile(file, 'utf8')) as { jobs: Job[]; audit: AuditEntry[]; auditSeq: number };
const historyLines = async () => (await readFile(history, 'utf8')).split('\n').filter(Boolean);

describe('the history file beside the state file', () => {
  it('moves older finished jobs and audit entries out, and a reopen sees everything, once, in order', async () => {
    const store = await opened();
    const jobs = Array.from({ length: 12 }, (_, i) => job(`buildarm-${String(i).padStart(2, '0')}`));
    for (const j of jobs) await store.saveJob(j);
    const active = job('buildarm-99', 'running');
    await store.saveJob(active);
    for (let i = 0; i < 20; i++) await store.appendAudit(audit(`action-${i}`));

    const onDisk = await stateFile();
    expect(onDisk.jobs.filter((j) => j.state === 'succeeded').length).toBeLessThanOrEqual(4);
    expect(onDisk.jobs.map((j) => j.id)).toContain(active.id); // unfinished work never leaves the state file
    expect(onDisk.audit.length).toBeLessThanOrEqual(6);
    expect(onDisk.auditSeq).toBe(20 - onDisk.audit.length);
    expect((await historyLines()).length).toBeGreaterThan(0);

    const before = { jobs: store.listJobs(), audit: store.listAudit() };
    await store.close();
    const again = await opened();
    expect(again.listJobs()).toEqual(before.jobs);
    expect(again.listAudit()).toEqual(before.audit);
    expect(again.listAudit().map((e) => e.action)).toEqual(Array.from({ length: 20 }, (_, i) => `action-${i}`));
    // and it goes on from there: new entries after a reopen keep their order too
    await again.appendAudit(audit('after-reopen'));
    await again.close();
    expect((await opened()).listAudit().map((e) => e.action).slice(-2)).toEqual(['action-19', 'after-reopen']);
  });

  it('does not keep the serialized bytes of a job that moved to the history file (a long-lived bot holds many)', async () => {
    const store = await opened();
    const first = job('buildarm-01');
    await store.saveJob(first);
    const held = store.peekJob(first.id)!;
    const bytes = jsonBytes(held);
    expect(jsonBytes(held)).toBe(bytes); // cached while the state file writes it
    for (let i = 2; i <= 8; i++) await store.saveJob(job(`buildarm-0${i}`));
    expect(await stateFile().then((d) => d.jobs.map((j) => j.id))).not.toContain(first.id);
    expect(store.peekJob(first.id)).toBe(held); // still in memory, for reads
    expect(jsonBytes(held)).not.toBe(bytes); // but its bytes were let go
    expect(jsonBytes(held).equals(bytes)).toBe(true);
    await store.close();
  });

  it('keeps each write of the state file the size of the recent work, however long the history', async () => {
    const store = await opened({ recentFinishedJobs: 20, recentAudit: 50, keepFinishedPerHost: 1, maxAudit: 300 });
    const hosts = Array.from({ length: 300 }, (_, i) => `buildarm-${String(i).padStart(3, '0')}`);
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < hosts.length; i += 30) {
        // thirty hosts finishing at once (their writes are grouped), then the next thirty
        await Promise.all(hosts.slice(i, i + 30).flatMap((h) => [store.saveJob(job(h)), store.appendAudit(audit('reinstall', h))]));
        sizes.push((await stat(file)).size);
      }
    }
    expect(Math.max(...sizes)).toBeLessThan(60 * 1024);
    expect(store.listJobs()).toHaveLength(300); // keepFinishedPerHost and maxAudit still apply
    expect(store.listAudit()).toHaveLength(300);
    // 3,600 records went to the history file; it was rewritten once most of it was for records no longer kept
    const lines = await historyLines();
    expect(lines.length).toBeLessThanOrEqual(2 * (300 + 300) + 1000 + 60);
    await store.close();
    const again = await opened({ keepFinishedPerHost: 1, maxAudit: 300 });
    expect(again.listJobs()).toHaveLength(300);
    expect(again.listAudit()).toHaveLength(300);
    expect(again.listAudit().at(-1)).toMatchObject({ action: 'reinstall', host: 'buildarm-299' });
  });

  it('a job changed after it moved out (retried) is written to the state file again, and its newest version wins', async () => {
    const store = await opened();
    const old = job('buildarm-01', 'failed');
    await store.saveJob(old);
    for (let i = 0; i < 6; i++) await store.saveJob(job(`buildarm-1${i}`));
    expect((await stateFile()).jobs.map((j) => j.id)).not.toContain(old.id);
    expect((await readFile(history, 'utf8'))).toContain(`"id":"${old.id}"`);

    await store.saveJob({ ...old, state: 'running', current: 4 });
    expect((await stateFile()).jobs.find((j) => j.id === old.id)?.state).toBe('running');
    await store.close();
    const again = await opened();
    expect(again.getJob(old.id)).toMatchObject({ state: 'running', current: 4 });
    expect(again.activeJob('buildarm-01')?.id).toBe(old.id);
    expect(again.listJobs().filter((j) => j.id === old.id)).toHaveLength(1);
  });

  it('a crash after the history append but before the state file write loses and duplicates nothing', async () => {
    let failStateRename = false;
    const fs: AtomicFs = {
      ...nodeFs,
      rename: async (from, to) => {
        if (failStateRename && String(to) === file) throw Object.assign(new Error('killed'), { code: 'EIO' });
        return nodeFs.rename(from, to);
      },
    };
    const store = await opened({ fs });
    for (let i = 0; i < 4; i++) await store.saveJob(job(`buildarm-0${i}`));
    failStateRename = true;
    const moving = job('buildarm-09');
    await expect(store.saveJob(moving)).rejects.toBeInstanceOf(StoreError);
    await store.close().catch(() => undefined);
    const again = await opened();
    const ids = again.listJobs().map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(4); // the unacknowledged save is gone, the rest is there exactly once
    expect(again.getJob(moving.id)).toBeUndefined();
  });

  it('survives a last history line cut short by a crash, and rewrites the file at the next write', async () => {
    const store = await opened();
    for (let i = 0; i < 8; i++) await store.saveJob(job(`buildarm-0${i}`));
    const before = store.listJobs();
    await store.close();
    await appendFile(history, '{"job":{"id":"j-torn","host":"buil');
    const again = await opened();
    expect(again.listJobs()).toEqual(before);
    await again.saveJob(job('buildarm-20'));
    const text = await readFile(history, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('j-torn');
    await again.close();
    expect((await opened()).listJobs()).toHaveLength(before.length + 1);
  });

  it('refuses a damaged history line, naming the file and line, and leaves both files as they are', async () => {
    const store = await opened();
    for (let i = 0; i < 8; i++) await store.saveJob(job(`buildarm-0${i}`));
    await store.close();
    const lines = await historyLines();
    lines.splice(1, 0, '{"neither": true}');
    await writeFile(history, `${lines.join('\n')}\n`);
    const [stateBefore, historyBefore] = [await readFile(file), await readFile(history)];
    const err = await opened().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain(history);
    expect((err as Error).message).toMatch(/line 2 is not a history record/);
    expect(Buffer.compare(await readFile(file), stateBefore)).toBe(0);
    expect(Buffer.compare(await readFile(history), historyBefore)).toBe(0);
  });
});
