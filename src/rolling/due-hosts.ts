/**
 * Which hosts of a rolling run are due to start, in the order to take them. A one-shot run: every host not yet
 * started (nor done or failed), in the run's fixed order. A continuous run: every host whose last reinstall is a
 * cadence old (unknown: due), least recently reinstalled first; failed hosts wait for a human. A guest whose
 * virthost is in the run is never due on its own: it goes with its virthost.
 */
import type { Store } from '../../store/store';
import type { RollingRun } from '../model';
import { isDue } from './order';

export function dueHosts(run: RollingRun, store: Store, cadenceMs: number | undefined, now: Date, withVirthost: ReadonlySet<string> = new Set()): string[] {
  // Failed hosts wait for a human; guests whose virthost is in the run are reinstalled with it, never alone.
  const failed = new Set([...run.failed.map((f) => f.host), ...withVirthost]); // neither is due
  if (!run.continuous || cadenceMs === undefined) {
    const done = new Set(run.done);
    return run.order.filter((h) => !run.jobs[h] && !done.has(h) && !failed.has(h));
  }
  const rank = new Map(run.order.map((h, i) => [h, i]));
  // Also by the scheduler's own clock: a host it started is not due again within a cadence, whatever the
  // executor stamped (so clocks that disagree cannot make it reinstall a host over and over).
  const lastStart = (h: string) => ({ name: h, lastReinstalledAt: run.hostStartedAt?.[h] });
  const at = (h: string) => Date.parse(store.peekHost(h)?.lastReinstalledAt ?? '') || -Infinity;
  return run.order
    .filter((h) => !failed.has(h) && isDue(store.peekHost(h), cadenceMs, now) && isDue(lastStart(h), cadenceMs, now))
    .sort((a, b) => at(a) - at(b) || rank.get(a)! - rank.get(b)!);
}
