/**
 * The rolling arithmetic: how many hosts a run may have in flight, and which due hosts it may start now without
 * passing the fraction, per-arch or per-virthost limits. Pure: the caller says which hosts have active jobs
 * (slots belong to jobs in the store, never to a lease).
 */
import type { HostConfig } from '../config/schema';

/** `ceil(fraction × size)`, at least 1 (and `0.1 × 30` is 3, not 4: the product is rounded before the ceiling). */
export function slotsFor(fraction: number, size: number): number {
  const product = Math.round(fraction * size * 1e6) / 1e6;
  return Math.max(1, Math.ceil(product));
}

export interface CapacityInput {
  /** Hosts due to start, in the order they should be taken. */
  due: readonly HostConfig[];
  /** Every host that has an active job right now (any source), with its config. */
  active: readonly HostConfig[];
  /** The hosts whose active jobs count against the run's slots (the run's fleet or group). */
  runHosts: ReadonlySet<string>;
  slots: number;
  maxPerArch?: number;
  maxPerVirthost: number;
  /** Every configured host (to find a virthost's guests). */
  fleet: readonly HostConfig[];
}

export interface CapacityPick {
  start: HostConfig[];
  /** Due hosts not started and why (the first reason that held them). */
  held: Array<{ host: string; why: string }>;
  inFlight: number;
}

/** Chooses the due hosts to start now, in order, within every limit. */
export function pickHosts(input: CapacityInput): CapacityPick {
  const activeNames = new Set(input.active.map((h) => h.name));
  const perArch = new Map<string, number>();
  const perVirthost = new Map<string, number>();
  let inFlight = 0;
  const count = (h: HostConfig) => {
    activeNames.add(h.name);
    perArch.set(h.arch, (perArch.get(h.arch) ?? 0) + 1);
    if (h.kind === 'virt' && h.virthost) perVirthost.set(h.virthost, (perVirthost.get(h.virthost) ?? 0) + 1);
    if (input.runHosts.has(h.name)) inFlight++;
  };
  input.active.forEach(count);
  const start: HostConfig[] = [];
  const held: CapacityPick['held'] = [];
  for (const h of input.due) {
    const why = holdReason(h);
    if (why) held.push({ host: h.name, why });
    else {
      start.push(h);
      count(h);
    }
  }
  return { start, held, inFlight };

  function holdReason(h: HostConfig): string | undefined {
    if (activeNames.has(h.name)) return 'already in a job';
    if (inFlight >= input.slots) return `${input.slots} in flight already`;
    if (input.maxPerArch !== undefined && (perArch.get(h.arch) ?? 0) >= input.maxPerArch) {
      return `${input.maxPerArch} ${h.arch} host(s) in flight already (rolling.maxPerArch)`;
    }
    if (h.kind === 'virt' && h.virthost) {
      if (activeNames.has(h.virthost)) return `its virthost ${h.virthost} is being reinstalled`;
      if ((perVirthost.get(h.virthost) ?? 0) >= input.maxPerVirthost) {
        return `${input.maxPerVirthost} guest(s) of ${h.virthost} in flight already (rolling.maxPerVirthost)`;
      }
    }
    if (h.kind === 'virthost') {
      const guest = input.fleet.find((g) => g.virthost === h.name && activeNames.has(g.name));
      if (guest) return `its guest ${guest.name} is being reinstalled`;
    }
    return undefined;
  }
}
