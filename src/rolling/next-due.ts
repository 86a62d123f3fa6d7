/** The "next due" line of a continuous run's status: the host that comes due first under the cadence. Pure. */
import type { HostRecord, RollingRun } from '../model';
import { dueAt } from './order';
import type { RollingTally } from './types';

export function nextDueLine(
  run: RollingRun,
  t: RollingTally,
  cadence: number | undefined,
  getHost: (name: string) => HostRecord | undefined,
  clock: () => Date,
): string | undefined {
  if (cadence === undefined) return undefined;
  const busy = new Set([...t.inFlight.map((j) => j.host), ...t.failed.map((f) => f.host)]);
  let best: { host: string; at: Date } | undefined;
  for (const host of run.order) {
    if (busy.has(host)) continue;
    const at = dueAt(getHost(host), cadence) ?? new Date(0);
    if (!best || at < best.at) best = { host, at };
  }
  if (!best) return undefined;
  return best.at <= clock() ? `next due: ${best.host} (due now)` : `next due: ${best.host} at ${best.at.toISOString()}`;
}
