/** The rolling loop's pure decisions: failure budget, run transitions, hosts done outside the run, jobs recorded. */
import { describe, expect, it } from 'vitest';
import { budgetPauseReason, freshFailures } from '../../src/rolling/failure-budget';
import { reinstalledOutsideRun } from '../../src/rolling/run-hosts';
import { elapsedMs, isLive, liveRun, pauseRun, resumeRun, stopRun } from '../../src/rolling/run-transitions';
import { recordStarted } from '../../src/rolling/start-due';
import type { HostRecord } from '../../src/model';
import { kevin, makeRun } from '../fakes/rolling-runs';


const run = makeRun;

describe('failure budget', () => {
  it('counts only failures since the last resume, and pauses a running run at the budget', () => {
    const r = run({ failed: [{ host: 'a', message: 'x' }, { host: 'b', message: 'y' }], acknowledgedFailures: 1 });
    const fresh = freshFailures(r);
    expect(fresh.map((f) => f.host)).toEqual(['b']);
    expect(budgetPauseReason(r, fresh, 2)).toBeUndefined();
    expect(budgetPauseReason(r, fresh, 1)).toBe('1 reinstall(s) failed (budget 1): b');
    expect(budgetPauseReason({ ...r, state: 'paused' }, fresh, 1)).toBeUndefined();
  });

  it('brings the acknowledged count back within the failures', () => {
    const r = run({ failed: [{ host: 'a', message: 'x' }], acknowledgedFailures: 3 });
    expect(freshFailures(r)).toEqual([]);
    expect(r.acknowledgedFailures).toBe(1);
  });
});

describe('run transitions', () => {
  it('pause, resume and stop, with the refusals a command gets', () => {
    const r = run({ failed: [{ host: 'a', message: 'x' }] });
    expect(isLive(r)).toBe(true);
    pauseRun(r, kevin);
    expect(r).toMatchObject({ state: 'paused', pausedReason: 'paused by kevin' });
    expect(() => pauseRun(r, kevin)).toThrow(expect.objectContaining({ code: 'E_ROLLING_PAUSED' }));
    resumeRun(r);
    expect(r).toMatchObject({ state: 'running', pausedReason: undefined, acknowledgedFailures: 1 });
    expect(() => resumeRun(r)).toThrow(expect.objectContaining({ code: 'E_ROLLING_RUNNING' }));
    stopRun(r, kevin, new Date('2026-11-25T10:00:00.000Z'));
    expect(isLive(r)).toBe(false);
    expect(elapsedMs(r, () => new Date(0))).toBe(3_600_000);
    expect(() => liveRun(r, 'pause')).toThrow('no rolling run to pause (run r1 stopped); !rolling start begins one');
    expect(() => liveRun(undefined, 'stop')).toThrow(expect.objectContaining({ code: 'E_NO_ROLLING_RUN' }));
  });
});

describe('hosts of the run', () => {
  it('a host not yet started that was reinstalled since the run began counts as done', () => {
    const r = run({ jobs: { a: 'j1' }, done: ['b'] });
    const records: Record<string, Partial<HostRecord>> = {
      a: { lastOutcome: 'succeeded', lastReinstalledAt: '2026-11-25T09:30:00.000Z' },
      b: { lastOutcome: 'succeeded', lastReinstalledAt: '2026-11-25T09:30:00.000Z' },
      c: { lastOutcome: 'succeeded', lastReinstalledAt: '2026-11-25T09:30:00.000Z' },
      d: { lastOutcome: 'succeeded', lastReinstalledAt: '2026-11-25T08:30:00.000Z' },
    };
    expect(reinstalledOutsideRun(r, new Map(), (h) => records[h] as HostRecord)).toEqual(['c']);
  });

  it('records the jobs a host request queued: its own and the run hosts among its guests', () => {
    const r = run({ done: ['b'] });
    const now = new Date('2026-11-25T10:00:00.000Z');
    expect(recordStarted(r, 'a', [{ id: 'j1', host: 'a' }, { id: 'j2', host: 'b' }, { id: 'j3', host: 'x' }], now)).toBe(true);
    expect(r.jobs).toEqual({ a: 'j1', b: 'j2' });
    expect(r.done).toEqual([]);
    expect(r.hostStartedAt).toEqual({ a: now.toISOString(), b: now.toISOString() });
    expect(recordStarted(r, 'c', [], now)).toBe(false);
  });
});
