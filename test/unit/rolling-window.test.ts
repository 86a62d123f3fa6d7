import { describe, expect, it } from 'vitest';
import { parseWindow } from '../../src/rolling/window';

// 2026-11-23 is a Monday, 2026-11-28 a Saturday.
describe('rolling.window parser', () => {
  it.each<[string, string, boolean]>([
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-23T08:00:00Z', true],
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-23T07:59:59Z', false],
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-23T17:59:59Z', true],
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-23T18:00:00Z', false],
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-27T12:00:00Z', true],
    ['Mon-Fri 08:00-18:00 UTC', '2026-11-28T12:00:00Z', false],
    ['Mon-Fri 08:00-18:00', '2026-11-24T09:00:00Z', true],
    ['monday-friday 8:00-18:00 utc', '2026-11-25T08:30:00Z', true],
    ['Sat,Sun', '2026-11-28T00:00:00Z', true],
    ['Sat,Sun', '2026-11-29T23:59:00Z', true],
    ['Sat,Sun', '2026-11-27T23:59:00Z', false],
    ['Mon-Wed,Fri', '2026-11-26T12:00:00Z', false],
    ['Mon-Wed,Fri', '2026-11-27T12:00:00Z', true],
    ['Fri-Mon', '2026-11-23T10:00:00Z', true],
    ['Fri-Mon', '2026-11-24T10:00:00Z', false],
    ['Fri 22:00-02:00', '2026-11-27T21:59:00Z', false],
    ['Fri 22:00-02:00', '2026-11-27T22:00:00Z', true],
    ['Fri 22:00-02:00', '2026-11-28T01:59:00Z', true],
    ['Fri 22:00-02:00', '2026-11-28T02:00:00Z', false],
    ['Fri 22:00-02:00', '2026-11-29T01:00:00Z', false],
    ['08:00-24:00', '2026-11-25T23:59:00Z', true],
    ['08:00-24:00', '2026-11-25T07:59:00Z', false],
    ['daily 00:00-06:00', '2026-11-29T05:00:00Z', true],
    // Prague is UTC+1 in November: 09:00 there is 08:00 UTC.
    ['Mon-Fri 09:00-17:00 Europe/Prague', '2026-11-23T08:00:00Z', true],
    ['Mon-Fri 09:00-17:00 Europe/Prague', '2026-11-23T07:59:00Z', false],
    ['Mon-Fri 09:00-17:00 Europe/Prague', '2026-11-23T16:00:00Z', false],
    // Monday 00:30 in Tokyo is still Sunday in UTC.
    ['Mon 00:00-01:00 Asia/Tokyo', '2026-11-22T15:30:00Z', true],
  ])('%s contains %s: %s', (text, at, inside) => {
    expect(parseWindow(text).contains(new Date(at))).toBe(inside);
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['   ', /empty/],
    ['Mon-Fri 8-18', /bad time/],
    ['Funday 08:00-10:00', /unknown day "Funday"/],
    ['Mon-Fri 25:00-26:00', /bad time "25:00"/],
    ['Mon-Fri 08:60-09:00', /bad time "08:60"/],
    ['Mon 24:00-02:00', /bad time "24:00"/],
    ['Mon 08:00-08:00', /empty time range/],
    ['Mon-Fri 08:00-18:00 Mars/Olympus', /unknown time zone "Mars\/Olympus"/],
    ['08:00-18:00 09:00-10:00', /more than one time range/],
    ['UTC', /name days, hours or both/],
    ['Mon-Fri 08:00-18:00 UTC extra', /unexpected "extra"/],
    ['Mon-Tue-Wed', /bad day range/],
  ])('refuses %j', (text, why) => {
    expect(() => parseWindow(text)).toThrow(why);
    expect(() => parseWindow(text)).toThrow(/rolling\.window/);
  });

  it('says when it opens next', () => {
    const w = parseWindow('Mon-Fri 08:00-18:00 UTC');
    expect(w.nextOpen(new Date('2026-11-28T12:00:00Z'))?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(w.nextOpen(new Date('2026-11-24T17:59:30Z'))?.toISOString()).toBe('2026-11-24T17:59:30.000Z');
    expect(w.nextOpen(new Date('2026-11-24T18:00:30Z'))?.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(parseWindow('Sat 10:00-11:00 Europe/Prague').nextOpen(new Date('2026-11-25T00:00:00Z'))?.toISOString()).toBe('2026-11-28T09:00:00.000Z');
  });
});
