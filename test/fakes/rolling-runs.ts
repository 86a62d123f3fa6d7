/** A rolling run for unit tests: running, half the fleet of four, started by kevin in #builders. */
import type { Identity, RollingRun } from '../../src/model';

export const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };

export function makeRun(more: Partial<RollingRun> = {}): RollingRun {
  return {
    id: 'r1',
    state: 'running',
    startedAt: '2026-11-25T09:00:00.000Z',
    startedBy: kevin,
    origin: { adapter: 'irc', room: '#builders' },
    fraction: 0.5,
    continuous: false,
    order: ['a', 'b', 'c', 'd'],
    jobs: {},
    done: [],
    failed: [],
    slots: 2,
    ...more,
  };
}
