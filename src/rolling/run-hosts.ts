/** Which hosts a rolling run covers, and which of its hosts are settled without it: pure reads of the run. */
import type { HostConfig } from '../config/schema';
import type { Frozen } from '../../store/store';
import type { HostRecord, Job, RollingRun } from '../model';
import { guestsOf } from '../executor/virthost-guests';

/**
 * The hosts whose active jobs take the run's slots: its fleet or group as configured now, and the guests of its
 * virthosts (they leave Koji with them, in or out of the group).
 */
export function runHosts(run: RollingRun, fleet: readonly HostConfig[]): Set<string> {
  const hosts = run.group ? fleet.filter((h) => h.groups.includes(run.group!)) : fleet;
  const guests = (run.virthosts ?? []).flatMap((v) => guestsOf(fleet, v));
  return new Set([...hosts.map((h) => h.name), ...run.order, ...guests.map((g) => g.name)]);
}

/** The run's hosts that are guests of a virthost in the run: reinstalled with it, never alone. */
export function guestsWithVirthost(run: RollingRun, hostOf: (name: string) => HostConfig | undefined): Set<string> {
  const virthosts = new Set(run.virthosts ?? []);
  return new Set(run.order.filter((h) => {
    const virthost = hostOf(h)?.virthost;
    return virthost !== undefined && virthosts.has(virthost);
  }));
}

/**
 * One-shot runs: the hosts not yet started (no job of the run, not done or failed, none active) that someone
 * reinstalled successfully since the run began. They count as done.
 */
export function reinstalledOutsideRun(
  run: RollingRun,
  active: ReadonlyMap<string, Frozen<Job>>,
  peekHost: (name: string) => Frozen<HostRecord> | undefined,
): string[] {
  const out: string[] = [];
  const since = Date.parse(run.startedAt);
  const failed = new Set(run.failed.map((f) => f.host));
  const done = new Set(run.done);
  for (const host of run.order) {
    if (run.jobs[host] || done.has(host) || failed.has(host) || active.has(host)) continue;
    const rec = peekHost(host);
    const at = Date.parse(rec?.lastReinstalledAt ?? '');
    if (rec?.lastOutcome === 'succeeded' && at >= since) out.push(host);
  }
  return out;
}
