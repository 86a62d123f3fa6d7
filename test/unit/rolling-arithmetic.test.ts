import { describe, expect, it } from 'vitest';
import { pickHosts, slotsFor, virthostNeverFits } from '../../src/rolling/capacity';
import { estimateRunMs, typicalDuration } from '../../src/rolling/estimate';
import { formatRoughDuration } from '../../src/present/duration';
import { isDue, orderHosts } from '../../src/rolling/order';
import type { HostConfig } from '../../src/config/schema';
import { STEP_NAMES, type HostRecord, type Job } from '../../src/model';

function host(name: string, more: Partial<HostConfig> = {}): HostConfig {
  return { name, arch: 'x86_64', kind: 'baremetal', port: 22, groups: [], channels: [], ...more } as HostConfig;
}

describe('rolling arithmetic', () => {
  it.each<[number, number, number]>([
    [0.25, 20, 5],
    [0.25, 21, 6],
    [0.1, 30, 3],
    [0.1, 5, 1],
    [0.01, 3, 1],
    [1, 7, 7],
    [0.3, 10, 3],
    [0.33, 10, 4],
    [0.5, 1, 1],
  ])('ceil(%f × %i) at least 1 is %i', (fraction, size, slots) => {
    expect(slotsFor(fraction, size)).toBe(slots);
  });

  it('counts active jobs of the run against the slots, takes due hosts in order, and says why others wait', () => {
    const fleet = ['a', 'b', 'c', 'd', 'e'].map((n) => host(n));
    const pick = pickHosts({ due: fleet.slice(1), active: [fleet[0]!], runHosts: new Set(fleet.map((h) => h.name)), slots: 3, maxPerVirthost: 1, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['b', 'c']);
    expect(pick.held).toEqual([
      { host: 'd', why: '3 in flight already' },
      { host: 'e', why: '3 in flight already' },
    ]);
  });

  it('does not count jobs outside the run against its slots, but does count them per arch', () => {
    const fleet = [host('a', { arch: 'aarch64' }), host('b', { arch: 'aarch64' }), host('c'), host('x', { arch: 'aarch64' })];
    const pick = pickHosts({ due: fleet.slice(0, 3), active: [fleet[3]!], runHosts: new Set(['a', 'b', 'c']), slots: 2, maxPerArch: 1, maxPerVirthost: 1, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['c']);
    expect(pick.held.map((h) => h.host)).toEqual(['a', 'b']);
    expect(pick.held[0]!.why).toMatch(/aarch64.*maxPerArch/);
  });

  it('keeps a virthost and its guests apart, and at most maxPerVirthost guests of one virthost', () => {
    const fleet = [
      host('vh1', { kind: 'virthost' }),
      host('g1', { kind: 'virt', virthost: 'vh1' }),
      host('g2', { kind: 'virt', virthost: 'vh1' }),
      host('g3', { kind: 'virt', virthost: 'vh1' }),
      host('vh2', { kind: 'virthost' }),
      host('g4', { kind: 'virt', virthost: 'vh2' }),
    ];
    const all = new Set(fleet.map((h) => h.name));
    let pick = pickHosts({ due: [fleet[1]!, fleet[2]!, fleet[3]!, fleet[0]!], active: [], runHosts: all, slots: 10, maxPerVirthost: 2, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['g1', 'g2']);
    expect(Object.fromEntries(pick.held.map((h) => [h.host, h.why]))).toEqual({
      g3: '2 guest(s) of vh1 in flight already (rolling.maxPerVirthost)',
      vh1: 'its guest g1 is being reinstalled',
    });
    pick = pickHosts({ due: [fleet[4]!, fleet[5]!], active: [], runHosts: all, slots: 10, maxPerVirthost: 1, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['vh2']);
    expect(pick.held).toEqual([{ host: 'g4', why: 'reinstalled with its virthost vh2' }]);
    pick = pickHosts({ due: [fleet[5]!], active: [fleet[4]!], runHosts: all, slots: 10, maxPerVirthost: 1, fleet });
    expect(pick.held).toEqual([{ host: 'g4', why: 'its virthost vh2 is being reinstalled' }]);
  });

  it('a virthost takes 1 + its guests in slots and per arch; held for slots, it keeps the slots that free up', () => {
    const fleet = [
      host('b1'),
      host('b2'),
      host('b3', { arch: 'aarch64' }),
      host('vh', { kind: 'virthost' }),
      host('g1', { kind: 'virt', virthost: 'vh' }),
      host('g2', { kind: 'virt', virthost: 'vh' }),
    ];
    const [b1, b2, b3, vh, g1] = fleet as [HostConfig, HostConfig, HostConfig, HostConfig, HostConfig];
    const all = new Set(fleet.map((h) => h.name));
    // Nothing in flight: the virthost and its two guests take 3 of the 4 slots.
    let pick = pickHosts({ due: [vh, b1, b2, g1], active: [], runHosts: all, slots: 4, maxPerVirthost: 1, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['vh', 'b1']);
    expect(pick.held).toEqual([
      { host: 'b2', why: '4 in flight already' },
      { host: 'g1', why: 'reinstalled with its virthost vh' },
    ]);
    // One in flight, 3 slots: 2 free is not enough; the hosts after it wait for the slots it needs.
    pick = pickHosts({ due: [vh, b2, b3], active: [b1], runHosts: all, slots: 3, maxPerVirthost: 1, fleet });
    expect(pick.start).toEqual([]);
    expect(pick.held).toEqual([
      { host: 'vh', why: 'it and its 2 guest(s) need 3 slot(s), 2 free' },
      { host: 'b2', why: 'slots kept free for vh (it and its guests need 3)' },
      { host: 'b3', why: 'slots kept free for vh (it and its guests need 3)' },
    ]);
    // One that could never fit keeps nothing back (the run leaves it out at start).
    pick = pickHosts({ due: [vh, b2], active: [], runHosts: all, slots: 2, maxPerVirthost: 1, fleet });
    expect(pick.start.map((h) => h.name)).toEqual(['b2']);
    // Its guests count per arch too.
    pick = pickHosts({ due: [vh, b3], active: [b1], runHosts: all, slots: 10, maxPerArch: 3, maxPerVirthost: 1, fleet });
    expect(pick.held).toEqual([{ host: 'vh', why: 'it and its guests would put 4 x86_64 host(s) in flight (rolling.maxPerArch 3)' }]);
    expect(pick.start.map((h) => h.name)).toEqual(['b3']);
    expect(virthostNeverFits(vh, fleet, 2)).toEqual({ host: 'vh', guests: 2, need: 3, limit: 'the run has 2' });
    expect(virthostNeverFits(vh, fleet, 3, 2)).toEqual({ host: 'vh', guests: 2, need: 3, limit: 'rolling.maxPerArch allows 2 x86_64 host(s) at once' });
    expect(virthostNeverFits(vh, fleet, 3)).toBeUndefined();
  });

  it('orders least recently reinstalled first, unknown as oldest, ties in config order', () => {
    const records: Record<string, HostRecord> = {
      a: { name: 'a', lastReinstalledAt: '2026-03-01T00:00:00Z' },
      b: { name: 'b', lastReinstalledAt: '2026-01-01T00:00:00Z' },
      d: { name: 'd', lastReinstalledAt: '2026-03-01T00:00:00Z' },
    };
    expect(orderHosts(['a', 'b', 'c', 'd', 'e'].map((n) => host(n)), (n) => records[n])).toEqual(['c', 'e', 'b', 'a', 'd']);
  });

  it('a host is due when its last reinstall is at least the cadence old, or unknown', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const day = 86_400_000;
    expect(isDue(undefined, day, now)).toBe(true);
    expect(isDue({ name: 'a', lastReinstalledAt: '2026-11-24T12:00:00Z' }, day, now)).toBe(true);
    expect(isDue({ name: 'a', lastReinstalledAt: '2026-11-24T12:00:01Z' }, day, now)).toBe(false);
  });

  it('estimates from the median machine time of past reinstalls, in waves of the slots', () => {
    const job = (startedAt: string, verifiedAt: string | undefined): Job =>
      ({
        steps: STEP_NAMES.map((name, i) => ({
          name,
          status: name === 'reboot-verify' ? (verifiedAt ? 'succeeded' : 'failed') : 'succeeded',
          attempts: 1,
          startedAt: i === 0 ? startedAt : undefined,
          endedAt: name === 'reboot-verify' ? verifiedAt : undefined,
        })),
      }) as unknown as Job;
    const t = typicalDuration([
      job('2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z'),
      job('2026-01-01T00:00:00Z', '2026-01-01T00:30:00Z'),
      job('2026-01-01T00:00:00Z', '2026-01-01T00:20:00Z'),
      job('2026-01-01T00:00:00Z', undefined),
    ]);
    expect(t).toEqual({ ms: 20 * 60_000, samples: 3 });
    expect(typicalDuration([])).toBeUndefined();
    expect(estimateRunMs(20, 5, 20 * 60_000)).toBe(80 * 60_000);
    expect(estimateRunMs(21, 5, 60_000)).toBe(5 * 60_000);
    expect(estimateRunMs(0, 5, 60_000)).toBe(0);
    expect([45_000, 12 * 60_000, 130 * 60_000, 76 * 3_600_000].map(formatRoughDuration)).toEqual(['45s', '12m', '2h10m', '3d4h']);
  });
});
