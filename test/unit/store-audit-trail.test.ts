/**
 * The audit trail in the lowdb store: security actions kept apart from the refusal list. Proves: refusals cost no
 * write of their own (they go with the next write, with one write at most a while later when asked, and at close);
 * a state file and a history file written by the previous version (one audit list) load, split into security
 * actions and refusals, once, with nothing lost or duplicated across reopens; security actions past the age limit
 * are dropped at load; the history file stays bounded however many entries pass through it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/model';
import { historyPathFor } from '../../store/history-file';
import { LowdbStore, type LowdbStoreOptions } from '../../store/lowdb-store';
import { CURRENT_SCHEMA_VERSION } from '../../store/state-document';
import { until } from '../support/until';

const log = pino({ level: 'silent' });
const root = await mkdtemp(path.join(tmpdir(), 'rekick-store-audit-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let file: string;
let history: string;
let seq = 0;
beforeEach(async () => {
  const dir = path.join(root, `case-${++seq}`);
  await mkdir(dir);
  file = path.join(dir, 'rekick.json');
  history = historyPathFor(file);
});

const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const bob = { source: 'irc' as const, id: 'bob', display: 'bob' };
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
let n = 0;
const ok = (action: string, at = daysAgo(1)): AuditEntry => ({ at, who: kevin, origin: { adapter: 'irc', room: '#builders' }, action, host: 'buildarm-01', outcome: 'ok', detail: `#${++n}` });
const refused = (action: string, detail = `#${++n}`, at = daysAgo(1)): AuditEntry => ({ at, who: bob, origin: { adapter: 'irc', room: '#builders' }, action, outcome: 'refused', detail });

async function opened(options: LowdbStoreOptions = {}): Promise<LowdbStore> {
  const store = new LowdbStore(file, { log, ...options });
  await store.open();
  return store;
}
const onDisk = async () => JSON.parse(await readFile(file, 'utf8')) as { schemaVersion: number; audit: AuditEntry[]; auditSeq: number; refusals?: AuditEntry[] };
const historyRecords = async () =>
  (await readFile(history, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { seq?: number; audit?: AuditEntry; job?: unknown });

describe('refusals cost no write of their own', () => {
  it('go with the next write, and the state file has them after a reopen', async () => {
    const store = await opened();
    await store.appendAudit(ok('reinstall'));
    const writes = store.documentWrites;
    const many = Array.from({ length: 50 }, (_, i) => refused('!approve', `needs the approver role (${i})`));
    for (const r of many) store.noteRefusal(r);
    await store.whenIdle();
    expect(store.documentWrites).toBe(writes);
    expect((await onDisk()).refusals).toBeUndefined();
    await store.appendAudit(ok('approve'));
    expect(store.documentWrites).toBe(writes + 1);
    expect((await onDisk()).refusals).toEqual(many);
    await store.close();
    const again = await opened();
    expect(again.listAudit({ kind: 'refusals' })).toEqual(many);
    expect(again.listAudit({ kind: 'actions' }).map((e) => e.action)).toEqual(['reinstall', 'approve']);
  });

  it('asked to be written soon, a hundred refusals make one write a while later, not a hundred', async () => {
    const store = await opened({ refusalFlushMs: 30 });
    const writes = store.documentWrites;
    for (let i = 0; i < 100; i++) store.noteRefusal(refused('chat', `unknown command !x${i}`), { flushSoon: true });
    expect(store.documentWrites).toBe(writes);
    await until(() => store.documentWrites === writes + 1, 'the one write of the refusals', 10_000);
    expect((await onDisk()).refusals).toHaveLength(100);
    await new Promise((r) => setTimeout(r, 150)); // several flush periods: nothing more to write, no more writes
    expect(store.documentWrites).toBe(writes + 1);
    await store.close();
    expect(store.documentWrites).toBe(writes + 1);
  });

  it('the ones no write carried yet are written at close', async () => {
    const store = await opened();
    const left = [refused('!cancel'), refused('!deny')];
    for (const r of left) store.noteRefusal(r);
    await store.close();
    expect((await onDisk()).refusals).toEqual(left);
    expect((await opened()).listAudit()).toEqual(left);
  });

  it('a refusal list of 0 keeps none', async () => {
    const store = await opened({ refusalsMax: 0 });
    store.noteRefusal(refused('!approve'));
    await store.appendAudit(ok('reinstall'));
    expect(store.listAudit().map((e) => e.outcome)).toEqual(['ok']);
    expect((await onDisk()).refusals).toBeUndefined();
  });

  it('a refusal list of 0 costs no write, even asked to be written soon, nor one at close', async () => {
    const store = await opened({ refusalsMax: 0, refusalFlushMs: 20 });
    const writes = store.documentWrites;
    for (let i = 0; i < 10; i++) store.noteRefusal(refused('!approve'), { flushSoon: true });
    await new Promise((r) => setTimeout(r, 120)); // several flush periods
    expect(store.documentWrites).toBe(writes);
    await store.close();
    expect(store.documentWrites).toBe(writes);
  });
});

describe('a state file of the previous version (one audit list)', () => {
  it('loads split into security actions and refusals, in order, once, and the history file loses its refusals at the next write', async () => {
    const [a0, r1, a2, e3, a4, r5, a6, r7] = [ok('reinstall'), refused('!approve'), ok('approve'), { ...refused('!status'), outcome: 'error' as const }, ok('cancel'), refused('!deny'), ok('retry'), { ...refused('slack-request'), who: { source: 'slack' as const, id: 'unverified', display: 'unverified request' } }];
    const v3 = JSON.stringify({ schemaVersion: 3, jobs: [], hosts: {}, rolling: null, auditSeq: 4, audit: [a4, r5, a6, r7] });
    await writeFile(file, v3);
    await writeFile(history, [a0, r1, a2, e3].map((e, i) => `${JSON.stringify({ seq: i, audit: e })}\n`).join(''));

    const store = await opened();
    const actions = [a0, a2, a4, a6];
    const refusals = [r1, e3, r5, r7];
    expect(store.listAudit({ kind: 'actions' })).toEqual(actions);
    expect(store.listAudit({ kind: 'refusals' })).toEqual(refusals);
    expect(await readFile(`${file}.v3.bak`, 'utf8')).toBe(v3);
    const migrated = await onDisk();
    expect(migrated.schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
    expect(migrated.audit).toEqual([a4, a6]);
    expect(migrated.refusals).toEqual([r5, r7]);
    await store.close();

    // Reopened before any write: the same, nothing twice.
    let again = await opened();
    expect(again.listAudit({ kind: 'actions' })).toEqual(actions);
    expect(again.listAudit({ kind: 'refusals' })).toEqual(refusals);

    // The next write: the history file keeps security actions only, the state file every refusal.
    const a8 = ok('rolling-start');
    await again.appendAudit(a8);
    expect((await historyRecords()).filter((r) => r.audit).every((r) => r.audit!.outcome === 'ok')).toBe(true);
    expect((await onDisk()).refusals).toEqual(refusals);
    await again.close();
    again = await opened();
    expect(again.listAudit({ kind: 'actions' })).toEqual([...actions, a8]);
    expect(again.listAudit({ kind: 'refusals' })).toEqual(refusals);
    expect(again.listAudit()).toHaveLength(9);
  });
});

describe('retention', () => {
  it('drops security actions past auditMaxAge when the state is loaded, in the history file too', async () => {
    const store = await opened({ recentAudit: 2 });
    const entries = [ok('reinstall', daysAgo(500)), ok('approve', daysAgo(450)), ok('deny', daysAgo(300)), ok('cancel', daysAgo(10)), ok('retry', daysAgo(1))];
    for (const e of entries) await store.appendAudit(e);
    await store.close();
    expect((await historyRecords()).length).toBeGreaterThan(0); // some of them live in the history file
    const bounded = await opened({ recentAudit: 2, auditMaxAge: 400 * 86_400_000 });
    expect(bounded.listAudit().map((e) => e.action)).toEqual(['deny', 'cancel', 'retry']);
  });

  it('keeps the history file bounded by the entries kept, however many pass through it', async () => {
    const store = await opened({ maxAudit: 150, recentAudit: 10 });
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.appendAudit(ok(`a-${batch * 100 + i}`))));
    }
    // At most twice what is kept, plus the rewrite's slack (1,000 lines) and one batch.
    const lines = (await historyRecords()).length;
    expect(lines).toBeLessThanOrEqual(2 * 150 + 1000 + 100);
    expect(store.listAudit()).toHaveLength(150);
    await store.close();
    const again = await opened({ maxAudit: 150, recentAudit: 10 });
    expect(again.listAudit().map((e) => e.action)).toEqual(Array.from({ length: 150 }, (_, i) => `a-${2850 + i}`));
  });
});
