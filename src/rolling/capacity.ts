/**
 * The rolling arithmetic: how many hosts a run may have in flight, and which due hosts it may start now without
 * passing the fraction, per-arch or per-virthost limits. Pure: the caller says which hosts have active jobs
 * (slots belong to jobs in the store, never to a lease).
 */
import type { HostConfig } from '../config/schema';
import { guestsOf } from '../executor/virthost-guests';
import type { RollingLeftOut } from '../model';

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

/**
 * Chooses the due hosts to start now, in order, within every limit. A virthost goes with its guests (their jobs
 * start with its own: src/executor/virthost-guests.ts), so it counts 1 + its guests against the slots and per arch;
 * one held only for want of free slots keeps the slots that free up for itself (the hosts after it wait), so it is
 * not passed over for ever by smaller ones.
 */
export function pickHosts(input: CapacityInput): CapacityPick {
  const capacity = new CapacityTally(input);
  const start: HostConfig[] = [];
  const held: CapacityPick['held'] = [];
  for (const h of input.due) {
    const why = capacity.holdReason(h);
    if (why) held.push({ host: h.name, why });
    else {
      start.push(h);
      capacity.take(h);
    }
  }
  return { start, held, inFlight: capacity.inFlight };
}

/** What is in flight while a pass picks hosts (the active jobs, then each host taken), and why a host must wait. */
class CapacityTally {
  private readonly activeNames: Set<string>;
  private readonly perArch = new Map<string, number>();
  private readonly perVirthost = new Map<string, number>();
  /** Hosts of the run in flight. */
  inFlight = 0;
  /** A virthost waiting for free slots, with what it needs: the hosts after it wait too. */
  private reservedFor: { host: string; need: number } | undefined;
  /** Virthosts started now: their guests' jobs start with theirs. */
  private readonly startedVirthosts = new Set<string>();

  constructor(private readonly input: CapacityInput) {
    this.activeNames = new Set(input.active.map((h) => h.name));
    input.active.forEach((h) => this.count(h));
  }

  /** A host starts now (a virthost with its guests). */
  take(h: HostConfig): void {
    this.count(h);
    if (h.kind === 'virthost') {
      this.startedVirthosts.add(h.name);
      guestsOf(this.input.fleet, h.name).forEach((g) => this.count(g));
    }
  }

  holdReason(h: HostConfig): string | undefined {
    const { input, activeNames, perArch, perVirthost } = this;
    if (h.kind === 'virt' && h.virthost && this.startedVirthosts.has(h.virthost)) return `reinstalled with its virthost ${h.virthost}`;
    if (activeNames.has(h.name)) return 'already in a job';
    if (this.reservedFor) return `slots kept free for ${this.reservedFor.host} (it and its guests need ${this.reservedFor.need})`;
    if (h.kind === 'virthost') return this.virthostHoldReason(h);
    if (this.inFlight >= input.slots) return `${input.slots} in flight already`;
    if (input.maxPerArch !== undefined && (perArch.get(h.arch) ?? 0) >= input.maxPerArch) {
      return `${input.maxPerArch} ${h.arch} host(s) in flight already (rolling.maxPerArch)`;
    }
    if (h.kind === 'virt' && h.virthost) {
      if (activeNames.has(h.virthost)) return `its virthost ${h.virthost} is being reinstalled`;
      if ((perVirthost.get(h.virthost) ?? 0) >= input.maxPerVirthost) {
        return `${input.maxPerVirthost} guest(s) of ${h.virthost} in flight already (rolling.maxPerVirthost)`;
      }
    }
    return undefined;
  }

  private virthostHoldReason(h: HostConfig): string | undefined {
    const { input, perArch } = this;
    const guests = guestsOf(input.fleet, h.name);
    const busy = guests.find((g) => this.activeNames.has(g.name));
    if (busy) return `its guest ${busy.name} is being reinstalled`;
    const need = virthostNeed(guests, input.runHosts);
    const free = input.slots - this.inFlight;
    if (need > free) {
      // It can fit once slots free up: they are kept for it. (One that never fits is left out of the run at start.)
      if (need <= input.slots) this.reservedFor = { host: h.name, need };
      return `it and its ${guests.length} guest(s) need ${need} slot(s), ${Math.max(0, free)} free`;
    }
    if (input.maxPerArch !== undefined) {
      for (const [arch, n] of archCounts([h, ...guests])) {
        if ((perArch.get(arch) ?? 0) + n > input.maxPerArch) {
          return `it and its guests would put ${(perArch.get(arch) ?? 0) + n} ${arch} host(s) in flight (rolling.maxPerArch ${input.maxPerArch})`;
        }
      }
    }
    return undefined;
  }

  private count(h: HostConfig): void {
    this.activeNames.add(h.name);
    this.perArch.set(h.arch, (this.perArch.get(h.arch) ?? 0) + 1);
    if (h.kind === 'virt' && h.virthost) this.perVirthost.set(h.virthost, (this.perVirthost.get(h.virthost) ?? 0) + 1);
    if (this.input.runHosts.has(h.name)) this.inFlight++;
  }
}

/** The slots a virthost takes in a run: itself (counted as a host of the run) and each of its guests. */
function virthostNeed(guests: readonly HostConfig[], runHosts: ReadonlySet<string>): number {
  return 1 + guests.filter((g) => runHosts.has(g.name)).length;
}

/** How many of these hosts there are of each arch. */
export function archCounts(hosts: readonly HostConfig[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of hosts) counts.set(h.arch, (counts.get(h.arch) ?? 0) + 1);
  return counts;
}

/**
 * Why a virthost can never be taken by a run with these limits (it and its guests need more slots than the run
 * has, or more hosts of one arch than rolling.maxPerArch allows), if so.
 */
export function virthostNeverFits(
  virthost: HostConfig,
  fleet: readonly HostConfig[],
  slots: number,
  maxPerArch?: number,
): RollingLeftOut | undefined {
  const guests = guestsOf(fleet, virthost.name);
  const need = 1 + guests.length;
  if (need > slots) return { host: virthost.name, guests: guests.length, need, limit: `the run has ${slots}` };
  if (maxPerArch !== undefined) {
    for (const [arch, n] of archCounts([virthost, ...guests])) {
      if (n > maxPerArch) return { host: virthost.name, guests: guests.length, need, limit: `rolling.maxPerArch allows ${maxPerArch} ${arch} host(s) at once` };
    }
  }
  return undefined;
}
