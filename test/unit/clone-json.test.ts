/** cloneJson: the store's copies share nothing with what they were copied from. */
import { describe, expect, it } from 'vitest';
import { cloneJson } from '../../store/clone-json';

describe('cloneJson', () => {
  it('copies a job-shaped record deeply: changing the original afterwards changes nothing in the copy', () => {
    const job = {
      id: 'j-1',
      host: 'buildarm-01',
      steps: [{ name: 'disable', status: 'running', outputTail: ['a', 'b'] }],
      data: { 'drain.startedAt': 1, nested: { list: [1, [2, 3]] } },
      origin: { adapter: 'irc', room: '#ops' },
      kojiBefore: { enabled: true, comment: null },
      optional: undefined,
    };
    const copy = cloneJson(job);
    expect(copy).toEqual(job);
    expect(Object.keys(copy)).toEqual(Object.keys(job));
    job.steps[0]!.status = 'succeeded';
    job.steps[0]!.outputTail.push('c');
    job.steps.push({ name: 'drain', status: 'pending', outputTail: [] });
    (job.data.nested.list[1] as number[]).push(4);
    job.origin.room = '#other';
    job.kojiBefore.comment = 'x' as never;
    expect(copy.steps).toEqual([{ name: 'disable', status: 'running', outputTail: ['a', 'b'] }]);
    expect(copy.data.nested.list).toEqual([1, [2, 3]]);
    expect(copy.origin.room).toBe('#ops');
    expect(copy.kojiBefore.comment).toBeNull();
  });

  it('copies values that are not plain data whole (through structuredClone), never shares them', () => {
    const at = new Date('2026-12-04T00:00:00Z');
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: [1] });
    const copy = cloneJson({ at, bare });
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(at);
    expect(copy.at.getTime()).toBe(at.getTime());
    (bare.a as number[]).push(2);
    expect(copy.bare.a).toEqual([1]);
  });

  it('returns primitives as they are', () => {
    expect(cloneJson('x')).toBe('x');
    expect(cloneJson(3)).toBe(3);
    expect(cloneJson(null)).toBeNull();
    expect(cloneJson(undefined)).toBeUndefined();
  });
});
