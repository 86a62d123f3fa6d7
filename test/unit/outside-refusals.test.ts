/**
 * Refusals from outside: which entries they are (audit-kind), and how they are counted and logged (OutsideRefusals):
 * at most one log line a minute per source and reason while a flood goes on, each saying how many since the last,
 * one summary entry per minute (names no one, carries nothing the requests said), totals for the metric.
 */
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { outsideRefusal } from '../../src/audit/audit-kind';
import { OutsideRefusals } from '../../src/audit/outside-refusals';
import type { AuditEntry } from '../../src/model';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  // pino's sync write to a plain Writable: each line arrives before log.warn returns.
  return { log: pino({ level: 'info' }, sink), lines };
}

const slack = (detail: string, i = 0): AuditEntry => ({
  at: new Date().toISOString(),
  who: { source: 'slack', id: 'unverified', display: 'unverified request' },
  origin: { adapter: 'slack', room: `C${i}` },
  action: 'slack-request',
  outcome: 'refused',
  detail: `${detail} (event_callback from 203.0.113.${i % 250})`,
});

describe('which entries are refusals from outside', () => {
  it.each([
    ['unsigned request (no signature or timestamp)', 'unsigned'],
    ['stale timestamp (600 s from now; at most 300 s)', 'stale'],
    ['bad signature', 'bad-signature'],
    ['replayed request (same signature, timestamp and body)', 'replay'],
    ['replayed event_id Ev1', 'replay'],
    ['body too large (over 1048576 bytes)', 'too-large'],
    // The guard's own wordings (src/chat/slack/request-guard.ts) for a request from another workspace.
    ['other workspace: team T0OTHER, rekick serves T0REKICK', 'foreign-team'],
    ['other workspace: no team id, rekick serves T0REKICK', 'foreign-team'],
    ['something new', 'other'],
  ])('a Slack request refused at the door: %s -> %s', (detail, reason) => {
    expect(outsideRefusal(slack(detail))).toEqual({ source: 'slack', reason });
  });

  it('a line from an IRC user without an account; not a refusal of an identified user, nor a security action', () => {
    const base = { at: '', origin: { adapter: 'irc', room: '#builders' }, action: '!approve' } as const;
    expect(outsideRefusal({ ...base, who: { source: 'irc', display: 'nirik' }, outcome: 'refused' })).toEqual({ source: 'irc', reason: 'no-account' });
    // Logged in or not, rekick could not confirm the account (WHOIS timed out…): no trustworthy identity either.
    const unconfirmed = { source: 'irc', display: 'nirik', unconfirmed: 'WHOIS did not answer in time' } as const;
    expect(outsideRefusal({ ...base, who: unconfirmed, outcome: 'refused' })).toEqual({ source: 'irc', reason: 'unconfirmed' });
    expect(outsideRefusal({ ...base, who: { source: 'irc', id: 'eve', display: 'eve' }, outcome: 'refused' })).toBeUndefined();
    expect(outsideRefusal({ ...base, who: { source: 'irc', id: 'nirik', display: 'nirik' }, outcome: 'ok' })).toBeUndefined();
    expect(outsideRefusal({ ...base, who: { source: 'rolling', display: 'rolling' }, outcome: 'ok' })).toBeUndefined();
  });
});

describe('OutsideRefusals', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the first at once, sums up the rest once a minute while they come, and notes one summary a minute', () => {
    const { log, lines } = capture();
    const notes: AuditEntry[] = [];
    const counter = new OutsideRefusals({ log, note: (e) => notes.push(e) });
    const unsigned = { source: 'slack', reason: 'unsigned' } as const;
    for (let i = 0; i < 150; i++) counter.record(slack('unsigned request', i), unsigned);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, source: 'slack', reason: 'unsigned', detail: expect.stringMatching(/^unsigned request/) });
    expect(counter.counts()).toEqual([{ source: 'slack', reason: 'unsigned', count: 150 }]);
    expect(notes).toEqual([]);

    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ source: 'slack', reason: 'unsigned', count: 149 });
    expect(lines[1]!.msg).toMatch(/149 more since/);
    expect(notes).toEqual([
      expect.objectContaining({ who: { source: 'slack', display: 'unidentified' }, action: 'slack-request', outcome: 'refused', count: 150, detail: 'unsigned request (no signature or timestamp)' }),
    ]);
    expect(JSON.stringify(notes)).not.toMatch(/203\.0\.113/); // nothing the requests said

    // The flood goes on: its next minute is summed up in one line, not logged request by request.
    for (let i = 0; i < 40; i++) counter.record(slack('unsigned request', i), unsigned);
    expect(lines).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ count: 40 });
    expect(notes.map((n) => n.count)).toEqual([150, 40]);

    // A quiet minute ends the flood: nothing logged or noted for it; the next refusal is logged at once again.
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(3);
    expect(notes).toHaveLength(2);
    counter.record(slack('unsigned request'), unsigned);
    expect(lines).toHaveLength(4);
    expect(counter.counts()).toEqual([{ source: 'slack', reason: 'unsigned', count: 191 }]);
  });

  it('keeps each source and reason apart, and flush() sums up what is open (at shutdown)', () => {
    const { log, lines } = capture();
    const notes: AuditEntry[] = [];
    const counter = new OutsideRefusals({ log, note: (e) => notes.push(e) });
    for (let i = 0; i < 3; i++) counter.record(slack('bad signature', i), { source: 'slack', reason: 'bad-signature' });
    for (let i = 0; i < 2; i++) counter.record({ at: new Date().toISOString(), who: { source: 'irc', display: `n${i}` }, action: '!approve', outcome: 'refused', detail: 'x' }, { source: 'irc', reason: 'no-account' });
    expect(lines).toHaveLength(2);
    counter.flush();
    expect(lines).toHaveLength(4);
    expect(notes.map((n) => [n.who.source, n.action, n.count])).toEqual([
      ['slack', 'slack-request', 3],
      ['irc', 'chat', 2],
    ]);
    expect(counter.counts()).toEqual([
      { source: 'slack', reason: 'bad-signature', count: 3 },
      { source: 'irc', reason: 'no-account', count: 2 },
    ]);
    vi.advanceTimersByTime(120_000); // no timer left behind
    expect(lines).toHaveLength(4);
  });
});
