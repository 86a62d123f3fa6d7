/** The run is brought up to date from the store's jobs: adoption after a crash, endings recorded once, retries. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store';
import { reconcileRun } from '../../src/rolling/reconcile';
import { tallyRun } from '../../src/rolling/tally';
import { renderStatus } from '../../src/present/rolling-lines';
import { type Job, type JobState } from '../../src/model';
import { makeJob } from '../fakes/jobs';
import { kevin, makeRun } from '../fakes/rolling-runs';

let n = 0;

function job(host: string, state: JobState, more: Partial<Job> = {}): Job {
  const at = new Date(Date.UTC(2026, 10, 25, 10, n++)).toISOString();
  return makeJob({
    host,
    id: `j-${host}-${n}`,
    state,
    createdAt: at,
    requestedBy: { source: 'rolling', id: 'rekick', display: 'rolling' },
    options: { rollingRunId: 'r1' },
    ...more,
  });
}

const run = makeRun;

async function storeWith(...jobs: Job[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.open();
  await store.saveJobs(jobs);
  return store;
}

describe('rolling reconcile', () => {
  it('adopts a job the executor queued for the run when the run never recorded it (crash in between)', async () => {
    const a = job('a', 'running');
    const other = job('b', 'running', { options: {} });
    const store = await storeWith(a, other);
    const r = run();
    expect(reconcileRun(r, store)).toEqual({ ended: [], changed: true });
    expect(r.jobs).toEqual({ a: a.id });
    // A manual job of a host of the run takes a slot but is not the run's.
    const t = tallyRun(r, store);
    expect(t.inFlight.map((j) => j.host)).toEqual(['a', 'b']);
    expect(t.left).toEqual(['c', 'd']);
  });

  it('records each ending once: succeeded is done; failed, cancelled and denied are failures with their cause', async () => {
    const jobs = [
      job('a', 'succeeded'),
      job('b', 'failed', { error: { step: 'drain', code: 'E_X', message: 'tasks never finished' } }),
      job('c', 'cancelled', { current: 2, cancel: { by: kevin, at: 'x' } }),
      job('d', 'denied', { denial: { by: kevin, at: 'x', reason: 'kernel panic in verify' } }),
    ];
    const store = await storeWith(...jobs);
    const r = run({ jobs: Object.fromEntries(jobs.map((j) => [j.host, j.id])) });
    const first = reconcileRun(r, store);
    expect(first.ended).toEqual([
      { host: 'a', outcome: 'done' },
      { host: 'b', outcome: 'failed', step: 'drain', message: 'tasks never finished' },
      { host: 'c', outcome: 'failed', step: 'stage-installer', message: 'cancelled by kevin' },
      { host: 'd', outcome: 'failed', message: 'denied by kevin: kernel panic in verify' },
    ]);
    expect(reconcileRun(r, store)).toEqual({ ended: [], changed: false });
    expect(r.done).toEqual(['a']);
    expect(r.failed.map((f) => f.host)).toEqual(['b', 'c', 'd']);
  });

  it('a failed host retried (!retry) is in flight again, and done when it succeeds', async () => {
    const b = job('b', 'failed', { error: { step: 'drain', code: 'E_X', message: 'boom' } });
    const store = await storeWith(b);
    const r = run({ jobs: { b: b.id } });
    reconcileRun(r, store);
    expect(r.failed).toHaveLength(1);
    await store.saveJob({ ...b, state: 'running', error: undefined });
    reconcileRun(r, store);
    expect(r.failed).toEqual([]);
    expect(tallyRun(r, store).inFlight.map((j) => j.host)).toEqual(['b']);
    await store.saveJob({ ...b, state: 'succeeded' });
    expect(reconcileRun(r, store).ended).toEqual([{ host: 'b', outcome: 'done' }]);
    expect(r.done).toEqual(['b']);
  });

  it('a job compacted out of the store ends as its host record says', async () => {
    const store = await storeWith();
    await store.saveHost({ name: 'a', lastJobId: 'j-gone', lastOutcome: 'succeeded', lastReinstalledAt: '2026-11-25T10:00:00Z' });
    await store.saveHost({ name: 'b', lastJobId: 'j-gone2', lastOutcome: 'failed' });
    const r = run({ jobs: { a: 'j-gone', b: 'j-gone2' } });
    expect(reconcileRun(r, store).ended).toEqual([
      { host: 'a', outcome: 'done' },
      { host: 'b', outcome: 'failed', message: 'job j-gone2 ended failed' },
    ]);
  });

  it('status shows the state, counts, who is where, failures and what comes next', async () => {
    const jobs = [job('a', 'awaiting-approval'), job('b', 'running', { current: 3 }), job('c', 'failed', { error: { step: 'wait-ssh', code: 'E', message: 'no ssh after 60m' } })];
    const store = await storeWith(...jobs);
    const r = run({ order: ['a', 'b', 'c', 'd', 'e'], jobs: Object.fromEntries(jobs.map((j) => [j.host, j.id])) });
    reconcileRun(r, store);
    const lines = renderStatus({ run: r, tally: tallyRun(r, store), etaMs: 40 * 60_000, budget: 2 });
    expect(lines).toEqual([
      'rolling run r1 (the fleet, 2 at a time, started by kevin at 2026-11-25T09:00:00.000Z): running — 0/5 done, 2 in flight (1 waiting approval), 1 failed, 2 left; ETA ~40m',
      '  in flight: a waiting for approval, b [4/8] reinstall',
      '  failed (stay disabled): c at wait-ssh: no ssh after 60m',
      '  failure budget: 1 of 2 used',
      '  next: d, e',
    ]);
  });
});
