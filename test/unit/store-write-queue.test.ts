/** The store's write queue on its own: changes coalesced into one write, a failed write rolled back, queued ones re-applied. */
import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../store/write-queue';

describe('WriteQueue', () => {
  it('changes made in one tick share one write; each resolves once it is written', async () => {
    const state: number[] = [];
    let writes = 0;
    const q = new WriteQueue(async () => {
      writes++;
    }, undefined);
    const change = (n: number) =>
      q.change(() => {
        state.push(n);
        return () => void state.splice(state.indexOf(n), 1);
      });
    await Promise.all([change(1), change(2), change(3)]);
    expect(state).toEqual([1, 2, 3]);
    expect(writes).toBe(1);
    expect(q.writes).toBe(1);
    expect(q.writable).toBe(true);
    await q.whenIdle();
  });

  it('a failed write rolls back what it carried and rejects with StoreError; changes queued behind it stay applied', async () => {
    const state: string[] = [];
    let release!: () => void;
    let calls = 0;
    const q = new WriteQueue(() => {
      calls++;
      if (calls === 1) return new Promise<void>((_, reject) => (release = () => reject(new Error('disk full'))));
      return Promise.resolve();
    }, undefined);
    const change = (v: string) =>
      q.change(() => {
        state.push(v);
        return () => void state.splice(state.lastIndexOf(v), 1);
      });
    const first = change('a');
    await new Promise((r) => setImmediate(r)); // the first write is in flight
    const second = change('b');
    expect(state).toEqual(['a', 'b']);
    release();
    await expect(first).rejects.toMatchObject({ code: 'E_STORE', message: 'could not write the state: Error: disk full' });
    await second;
    expect(state).toEqual(['b']);
    expect(calls).toBe(2);
    expect(q.writable).toBe(true);
  });

  it('is not writable after a failed write, until one succeeds', async () => {
    let fail = true;
    const q = new WriteQueue(async () => {
      if (fail) throw new Error('read-only file system');
    }, undefined);
    await expect(q.change(() => () => undefined)).rejects.toThrow('could not write the state');
    expect(q.writable).toBe(false);
    fail = false;
    await q.change(() => () => undefined);
    expect(q.writable).toBe(true);
    expect(q.writes).toBe(1);
  });
});
