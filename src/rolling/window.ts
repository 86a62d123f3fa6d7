/**
 * `rolling.window`: when a rolling run may start hosts, written as days, hours and a time zone, e.g.
 * `Mon-Fri 08:00-18:00 UTC`, `Sat,Sun`, `22:00-06:00 Europe/Prague`, `Mon-Wed,Fri 07:30-24:00`.
 * Days and hours are each optional (not both); the zone defaults to UTC. Hours that cross midnight belong to the
 * day they start on (`Fri 22:00-02:00` includes Saturday 01:00). Hosts already started are never stopped by it.
 */
import { ConfigError } from '../errors';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const FULL_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MINUTES_PER_DAY = 24 * 60;

export interface RollingWindow {
  /** The text as configured. */
  readonly text: string;
  /** Days it opens on (0 = Sunday). */
  readonly days: ReadonlySet<number>;
  /** Minutes after local midnight: [start, end); end may be smaller than start (crosses midnight). */
  readonly startMinute: number;
  readonly endMinute: number;
  readonly timeZone: string;
  /** Whether hosts may be started at this moment. */
  contains(at: Date): boolean;
  /** The next moment (whole minute) at or after `at` when the window is open; undefined if never within 8 days. */
  nextOpen(at: Date): Date | undefined;
}

function problem(text: string, why: string): ConfigError {
  return new ConfigError([`rolling.window "${text}": ${why} (expected e.g. "Mon-Fri 08:00-18:00 UTC")`]);
}

function parseDay(word: string, text: string): number {
  const w = word.toLowerCase();
  let i = DAY_NAMES.indexOf(w as (typeof DAY_NAMES)[number]);
  if (i < 0) i = FULL_DAY_NAMES.indexOf(w);
  if (i < 0) throw problem(text, `unknown day "${word}"`);
  return i;
}

function parseDays(word: string, text: string): Set<number> {
  const w = word.toLowerCase();
  if (w === 'daily' || w === 'everyday' || w === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of word.split(',')) {
    if (!part) throw problem(text, 'empty day in the list');
    const range = part.split('-');
    if (range.length > 2) throw problem(text, `bad day range "${part}"`);
    const from = parseDay(range[0]!, text);
    const to = range.length === 2 ? parseDay(range[1]!, text) : from;
    // Ranges may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

function parseClock(s: string, text: string, allow24: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw problem(text, `bad time "${s}"`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && (min !== 0 || !allow24))) throw problem(text, `bad time "${s}"`);
  return h * 60 + min;
}

function checkZone(zone: string, text: string): string {
  if (/^(utc|z|gmt)$/i.test(zone)) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw problem(text, `unknown time zone "${zone}"`);
  }
  return zone;
}

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

const FORMATS = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day of `at` in the zone. */
export function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  if (timeZone === 'UTC') return { day: at.getUTCDay(), minute: at.getUTCHours() * 60 + at.getUTCMinutes() };
  let fmt = FORMATS.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    FORMATS.set(timeZone, fmt);
  }
  const parts = fmt.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: WEEKDAY_INDEX[get('weekday')] ?? 0, minute: (Number(get('hour')) % 24) * 60 + Number(get('minute')) };
}

/** Parses `rolling.window`; throws ConfigError saying what is wrong. */
export function parseWindow(text: string): RollingWindow {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (!words.length) throw problem(text, 'empty');
  let days: Set<number> | undefined;
  let startMinute = 0;
  let endMinute = MINUTES_PER_DAY;
  let hours = false;
  let timeZone = 'UTC';
  let zoneSeen = false;
  for (const word of words) {
    if (/^\d/.test(word)) {
      if (hours) throw problem(text, 'more than one time range');
      const m = /^([\d:]+)-([\d:]+)$/.exec(word);
      if (!m) throw problem(text, `bad time range "${word}"`);
      startMinute = parseClock(m[1]!, text, false);
      endMinute = parseClock(m[2]!, text, true);
      if (startMinute === endMinute) throw problem(text, `empty time range "${word}"`);
      hours = true;
    } else if (!days && !hours && !zoneSeen && /^[a-z*]/i.test(word) && !word.includes('/') && !/^(utc|z|gmt)$/i.test(word)) {
      days = parseDays(word, text);
    } else {
      if (zoneSeen) throw problem(text, `unexpected "${word}"`);
      timeZone = checkZone(word, text);
      zoneSeen = true;
    }
  }
  if (!days && !hours) throw problem(text, 'name days, hours or both');
  const openDays: ReadonlySet<number> = days ?? new Set([0, 1, 2, 3, 4, 5, 6]);
  const crosses = endMinute < startMinute;

  const contains = (at: Date): boolean => {
    const { day, minute } = localTime(at, timeZone);
    if (!crosses) return openDays.has(day) && minute >= startMinute && minute < endMinute;
    if (openDays.has(day) && minute >= startMinute) return true;
    return openDays.has((day + 6) % 7) && minute < endMinute;
  };

  const nextOpen = (at: Date): Date | undefined => {
    if (contains(at)) return at;
    let t = Math.ceil(at.getTime() / 60_000) * 60_000;
    // Windows open on whole minutes in every zone rekick meets (offsets are whole minutes).
    for (let i = 0; i <= 8 * MINUTES_PER_DAY; i++, t += 60_000) {
      const d = new Date(t);
      if (contains(d)) return d;
    }
    return undefined;
  };

  return { text, days: openDays, startMinute, endMinute, timeZone, contains, nextOpen };
}
