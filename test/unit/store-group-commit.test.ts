/**
 * Group commit: a busy store (its last write carried several changes) holds the next write back so more changes
 * share it; a quiet store writes a change at once, so a chain of durable steps (a job, then the host's Koji state
 * before the disable) is not held back by a window nothing else would share.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreBase } from '../../store/store-base';
import type { StoreDocument } from '../../store/state-document';
import type { StoreState } from '../../store/store-state';
import { makeJob } from '../fakes/jobs';

/** Each write takes `writeMs` (40 ms by default) of fake time. */
class SlowStore extends StoreBase {
  writesStarted: number[] = [];
  writeMs = 40;
  protected override async load(): Promise<StoreDocument | null> {
    return null;
  }
  protected override async persist(_state: StoreState): Promise<void> {
    this.writesStarted.push(Date.now());
    await new Promise((r) => setTimeout(r, this.writeMs));
  }
}

function tracked(p: Promise<void>): { done: boolean } {
  const t = { done: false };
  void p.then(() => (t.done = true));
  return t;
}

describe('the store’s group commit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a change on a quiet store at once, even right after a write', async () => {
    const store = new SlowStore();
    await store.open();
    const first = tracked(store.saveJob(makeJob({ id: 'j-1', host: 'buildarm-01' })));
    await vi.advanceTimersByTimeAsync(40);
    expect(first.done).toBe(true);
    const start = Date.now();
    const second = tracked(store.saveJob(makeJob({ id: 'j-2', host: 'buildarm-02' })));
    await vi.advanceTimersByTimeAsync(40);
    expect(second.done).toBe(true);
    expect(store.writesStarted.at(-1)).toBe(start);
  });

  it('holds the next write back after a write that carried several changes, so later changes share it', async () => {
    const store = new SlowStore();
    await store.open();
    const burst = ['j-1', 'j-2', 'j-3'].map((id, i) => tracked(store.saveJob(makeJob({ id, host: `buildarm-0${i + 1}` }))));
    await vi.advanceTimersByTimeAsync(40);
    expect(burst.every((t) => t.done)).toBe(true);
    expect(store.writesStarted).toHaveLength(1);
    const after = Date.now();
    const a = tracked(store.saveJob(makeJob({ id: 'j-4', host: 'buildarm-04' })));
    await vi.advanceTimersByTimeAsync(20);
    const b = tracked(store.saveJob(makeJob({ id: 'j-5', host: 'buildarm-05' })));
    await vi.advanceTimersByTimeAsync(40);
    expect(a.done || b.done).toBe(false); // still in the window: nothing written yet
    await vi.advanceTimersByTimeAsync(60);
    expect(a.done && b.done).toBe(true);
    expect(store.writesStarted).toHaveLength(2); // one write carried both
    expect(store.writesStarted[1]! - after).toBeGreaterThan(0);
  });

  it('after a cheap busy write, waits ten times its cost (not the whole 50 ms cap) for the next', async () => {
    const store = new SlowStore();
    store.writeMs = 3;
    await store.open();
    const burst = ['j-1', 'j-2', 'j-3'].map((id, i) => tracked(store.saveJob(makeJob({ id, host: `buildarm-0${i + 1}` }))));
    await vi.advanceTimersByTimeAsync(3);
    expect(burst.every((t) => t.done)).toBe(true);
    const after = Date.now();
    const next = tracked(store.saveJob(makeJob({ id: 'j-4', host: 'buildarm-04' })));
    await vi.advanceTimersByTimeAsync(25);
    expect(next.done).toBe(false); // a window of twice the cost (6 ms) would have written it by now
    await vi.advanceTimersByTimeAsync(15);
    expect(next.done).toBe(true);
    expect(store.writesStarted[1]! - after).toBe(30);
  });
});
