/**
 * The store writes its document from serialized pieces reused between writes (StoreState.toJsonChunks). Those
 * bytes must be exactly JSON.stringify of the document at that moment: after puts, replacements, compaction,
 * rolled-back changes and with awkward host names and strings.
 */
import { describe, expect, it } from 'vitest';
import { STEP_NAMES, type AuditEntry, type Job } from '../../src/model';
import { StoreState } from '../../store/store-state';
import { DEFAULT_LIMITS } from '../../store/store-limits';
import { jsonBytes } from '../../store/json-bytes';
import { makeJob } from '../fakes/jobs';

const text = (state: StoreState) => Buffer.concat(state.toJsonChunks()).toString('utf8');
const expected = (state: StoreState) => `${JSON.stringify(state.toDocument())}\n`;

let n = 0;
function job(host: string, partial: Partial<Job> = {}): Job {
  const at = new Date(Date.UTC(2026, 0, 1) + ++n * 1000).toISOString();
  return makeJob({ host, id: `j-${n}`, createdAt: at, updatedAt: at, ...partial });
}

function audit(action: string, host?: string): AuditEntry {
  return { at: new Date().toISOString(), who: { source: 'irc', id: 'kevin', display: 'kevin' }, action, host, outcome: 'ok' };
}

describe('the state file from reused serialized pieces', () => {
  it('is byte for byte JSON.stringify of the document, empty and full', () => {
    const state = new StoreState({ ...DEFAULT_LIMITS, keepFinishedPerHost: 2, maxAudit: 3 });
    expect(text(state)).toBe(expected(state));
    state.putJob(job('buildarm-01'));
    state.putHost({ name: 'buildarm-01', lastReinstalledAt: '2026-01-01T00:00:00.000Z' });
    state.putHost({ name: 'quote"and\\back\u2028slash ü', lastReinstalledAt: '2026-01-01T00:00:00.000Z' });
    state.setRolling({ id: 'r-1', state: 'running', order: ['buildarm-01'], jobs: {} } as never);
    state.appendAudit(audit('reinstall', 'buildarm-01'));
    state.noteRefusal({ ...audit('!approve'), outcome: 'refused', detail: 'needs the approver role' });
    state.noteRefusal({ ...audit('!approve'), outcome: 'refused', detail: 'needs the approver role' }); // coalesced
    expect(text(state)).toBe(expected(state));
    expect(JSON.parse(text(state))).toEqual(state.toDocument());
    expect(state.toDocument().refusals).toEqual([expect.objectContaining({ action: '!approve', count: 2 })]);
  });

  it('follows replacements, compaction, the audit limit and undone changes', () => {
    const state = new StoreState({ ...DEFAULT_LIMITS, keepFinishedPerHost: 1, maxAudit: 2 });
    const first = job('buildarm-02', { state: 'running' });
    state.putJob(first);
    text(state); // serialized and cached now
    state.putJob({ ...first, state: 'succeeded', current: STEP_NAMES.length });
    expect(text(state)).toBe(expected(state));
    expect(JSON.parse(text(state)).jobs[0].state).toBe('succeeded');

    state.putJob(job('buildarm-02', { state: 'failed' })); // compacts the older finished job away
    expect(JSON.parse(text(state)).jobs).toHaveLength(1);
    expect(text(state)).toBe(expected(state));

    for (const a of ['one', 'two', 'three']) state.appendAudit(audit(a));
    expect(JSON.parse(text(state)).audit.map((e: AuditEntry) => e.action)).toEqual(['two', 'three']);

    // host records: the serialized hosts section follows a replacement, a new host and an undo
    state.putHost({ name: 'buildarm-02', lastReinstalledAt: '2026-01-01T00:00:00.000Z' });
    text(state);
    state.putHost({ name: 'buildarm-02', lastReinstalledAt: '2026-01-02T00:00:00.000Z', lastOutcome: 'succeeded' });
    expect(JSON.parse(text(state)).hosts['buildarm-02'].lastReinstalledAt).toBe('2026-01-02T00:00:00.000Z');
    const withOne = text(state);
    const undoHost = state.putHost({ name: 'buildarm-03' });
    expect(text(state)).toBe(expected(state));
    undoHost();
    expect(text(state)).toBe(withOne);

    const before = text(state);
    const undo = state.putJob(job('buildarm-02', { state: 'cancelled' }));
    const undoAudit = state.appendAudit(audit('four'));
    expect(text(state)).not.toBe(before);
    undoAudit();
    undo();
    expect(text(state)).toBe(before);
    expect(text(state)).toBe(expected(state));
  });

  it('keeps each cached piece in memory of its own, not in a shared pool slab that a finished job would pin', () => {
    const state = new StoreState({ ...DEFAULT_LIMITS, keepFinishedPerHost: 2, maxAudit: 3 });
    state.putJob(job('buildarm-01'));
    const cached = jsonBytes(state.getJob(`j-${n}`)!);
    expect(cached.length).toBeLessThan(4096); // small enough that Buffer.from would have pooled it
    expect(cached.buffer.byteLength).toBe(cached.length);
  });
});

