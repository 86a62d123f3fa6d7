/** The order of a rolling run: least recently reinstalled first; a host rekick never reinstalled counts as oldest. */
import type { HostConfig } from '../config/schema';
import type { HostRecord } from '../model';

export function orderHosts(hosts: readonly HostConfig[], record: (name: string) => HostRecord | undefined): string[] {
  const at = (h: HostConfig) => {
    const t = Date.parse(record(h.name)?.lastReinstalledAt ?? '');
    return Number.isFinite(t) ? t : -Infinity;
  };
  // Array.prototype.sort is stable: equal times keep the config's order.
  return [...hosts].sort((a, b) => (at(a) === at(b) ? 0 : at(a) < at(b) ? -1 : 1)).map((h) => h.name);
}

/** Whether a host is due again under `cadenceMs` at `now` (never reinstalled: due). */
export function isDue(record: HostRecord | undefined, cadenceMs: number, now: Date): boolean {
  const t = Date.parse(record?.lastReinstalledAt ?? '');
  return !Number.isFinite(t) || t + cadenceMs <= now.getTime();
}

/** When a host comes due (undefined: due now, never reinstalled). */
export function dueAt(record: HostRecord | undefined, cadenceMs: number): Date | undefined {
  const t = Date.parse(record?.lastReinstalledAt ?? '');
  return Number.isFinite(t) ? new Date(t + cadenceMs) : undefined;
}
