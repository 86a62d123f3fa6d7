/** The in-memory state's parts on their own: jobs compacted per host with an exact undo, audit entries numbered and bounded. */
import { describe, expect, it } from 'vitest';
import { AuditActions } from '../../store/audit-actions';
import { JobIndex } from '../../store/job-index';
import type { AuditEntry } from '../../src/model';
import { makeJob } from '../fakes/jobs';

const at = (min: number) => new Date(Date.UTC(2026, 10, 25, 10, min)).toISOString();

describe('JobIndex', () => {
  it('keeps the newest finished jobs per host, and an undo puts back what the change replaced and compacted', () => {
    const index = new JobIndex(2);
    index.load([1, 2].map((n) => makeJob({ host: 'a', id: `a${n}`, state: 'succeeded', createdAt: at(n) })));
    const undo = index.put(makeJob({ host: 'a', id: 'a3', state: 'failed', createdAt: at(3) }));
    expect(index.list({ host: 'a' }).map((j) => j.id)).toEqual(['a3', 'a2']);
    index.put(makeJob({ host: 'b', id: 'b1', createdAt: at(4) }));
    expect(index.active('b')?.id).toBe('b1');
    expect(index.active('a')).toBeUndefined();
    undo();
    expect(index.list({ host: 'a' }).map((j) => j.id)).toEqual(['a2', 'a1']);
    expect(index.all().map((j) => j.id)).toEqual(['a1', 'a2', 'b1']);
  });
});

describe('AuditActions', () => {
  const entry = (min: number): AuditEntry => ({ at: at(min), who: { source: 'irc', id: 'kevin', display: 'kevin' }, action: 'reinstall', outcome: 'ok' });

  it('numbers every entry ever appended; the oldest beyond the limit go, and an undo brings them back', () => {
    const audit = new AuditActions({ maxAudit: 2, auditMaxAge: Infinity }, Date.now);
    audit.load([entry(1), entry(2)], 10);
    expect(audit.seqs).toEqual({ first: 10, next: 12 });
    const undo = audit.append(entry(3));
    expect(audit.seqs).toEqual({ first: 11, next: 13 });
    expect(audit.from(12).map(({ seq, entry: e }) => [seq, e.at])).toEqual([[12, at(3)]]);
    undo();
    expect(audit.seqs).toEqual({ first: 10, next: 12 });
    expect(audit.all().map((e) => e.at)).toEqual([at(1), at(2)]);
  });

  it('drops entries past the age limit on load and on append, but never the one just appended', () => {
    const now = Date.parse(at(60));
    const audit = new AuditActions({ maxAudit: 100, auditMaxAge: 30 * 60_000 }, () => now);
    audit.load([entry(1), entry(40)], 0);
    expect(audit.seqs).toEqual({ first: 1, next: 2 });
    audit.append(entry(2));
    expect(audit.all().map((e) => e.at)).toEqual([at(40), at(2)]);
  });
});
