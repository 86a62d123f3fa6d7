/** The shared presentation pieces (src/present/): durations, the step tag, names, one-line text, long lists. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLY_LINES } from '../../src/chat/chat-adapter';
import { age, agoOrNever, formatDuration, formatRoughDuration } from '../../src/present/duration';
import { auditName, chatName, commentName } from '../../src/present/identity';
import { DEFAULT_LIST_ROOM } from '../../src/present/list-reply';
import { someOf } from '../../src/present/name-list';
import { boundedLine, commentLine } from '../../src/present/one-line';
import { currentStep, stepNumber, stepTag } from '../../src/present/step-tag';

describe('presentation pieces', () => {
  it('formats durations exactly (steps, timeouts) and roughly (rolling estimates)', () => {
    expect([850, 12_500, 125_000, 120_000, 4_200_000, 3_600_000].map(formatDuration)).toEqual(['850ms', '12.5s', '2m5s', '2m', '1h10m', '1h']);
    expect([45_000, 12 * 60_000, 130 * 60_000, 76 * 3_600_000, -5].map(formatRoughDuration)).toEqual(['45s', '12m', '2h10m', '3d4h', '0s']);
  });

  it('says how old something is: in chat, and in the CLI views and status page', () => {
    const now = new Date('2026-01-10T12:00:00Z');
    expect(age(undefined, now)).toBe('?');
    expect(age('2026-01-10T11:48:00Z', now)).toBe('12m');
    expect(age('2026-01-07T12:00:00Z', now)).toBe('3d');
    expect(agoOrNever(null)).toBe('never');
    expect(agoOrNever('2026-01-10T11:58:00Z', now.getTime())).toBe('2m ago');
  });

  it('tags a step with its place among the eight', () => {
    expect(stepTag('stage-installer')).toBe('[3/8] stage-installer');
    expect(stepTag('wait-ssh', 4)).toBe('[5/8] wait-ssh');
    expect(currentStep({ current: 2 })).toBe('stage-installer');
    expect(currentStep({ current: 8 })).toBe('enable');
    expect(stepNumber('reinstall')).toBe('[4/8]');
  });

  it('names a person three ways: chat, Koji comment, audit trail', () => {
    const kevin = { source: 'irc' as const, id: 'kevin', display: 'kev' };
    const anon = { source: 'irc' as const, id: undefined, display: 'guest' };
    expect([chatName(kevin), commentName(kevin), auditName(kevin)]).toEqual(['kev', 'kev (irc:kevin)', 'irc:kevin']);
    expect([chatName(anon), commentName(anon), auditName(anon)]).toEqual(['guest', 'guest (irc:guest)', 'irc:guest (no account)']);
  });

  it('makes one line: bounded and C1-free for chat, unbounded for a Koji comment', () => {
    expect(boundedLine('a\r\nb\tc\x01\x85', 300)).toBe('a b c');
    expect(boundedLine('x'.repeat(10), 5)).toBe('xxxx…');
    expect(commentLine('a\nb\x85')).toBe('a b\x85');
    expect(commentLine('y'.repeat(400))).toHaveLength(400);
  });

  it('cuts a long list of names, and a command without a room gets a channel of the adapters’ default size', () => {
    expect(someOf(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(someOf(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more');
    expect(DEFAULT_LIST_ROOM.lines).toBe(DEFAULT_REPLY_LINES.room);
  });
});
