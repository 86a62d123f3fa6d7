/** The IRC outbox and pacer: order, confirmation by echo, requeue after a drop, summaries of a backlog. */
import { describe, expect, it } from 'vitest';
import { IrcOutbox, type OutboxLine } from '../../src/chat/irc/outbox';
import { LinePacer } from '../../src/chat/irc/line-pacer';

const split = (text: string) => text.match(/.{1,100}/g) ?? [];
const line = (text: string, progress?: { host: string; state: string }): OutboxLine => ({ target: '#b', text, progress });

describe('IrcOutbox', () => {
  it('keeps order; a dropped connection puts unconfirmed lines back in front; confirmed lines never come back', () => {
    const box = new IrcOutbox({ split });
    box.push([line('1'), line('2'), line('3')]);
    expect(box.take(0)!.text).toBe('1');
    expect(box.take(0)!.text).toBe('2');
    expect(box.confirm('#B', '1')).toBe(true); // channel names compare case-insensitively
    box.requeue();
    expect(box.all().map((l) => l.text)).toEqual(['2', '3']);
    expect(box.confirm('#b', '1')).toBe(false);
  });

  it('summarises waiting progress per room past the threshold, keeping other lines verbatim and in place', () => {
    const box = new IrcOutbox({ split: (t) => [t], threshold: 5 });
    box.push([line('h1 started', { host: 'h1', state: '[1/8] disable started' })]);
    box.push([line('h2 started', { host: 'h2', state: '[1/8] disable started' })]);
    box.push([line('h1 FAILED verbatim')]);
    box.push([line('h1 ok', { host: 'h1', state: '[1/8] disable ok 1s' })]);
    box.push([line('h3 started', { host: 'h3', state: '[1/8] disable started' })]);
    expect(box.waiting).toBe(5);
    box.push([{ target: '#other', text: 'o1', progress: { host: 'h9', state: 'x' } }]);
    const texts = box.all().map((l) => l.text);
    expect(texts[1]).toBe('h1 FAILED verbatim');
    expect(texts[0]).toMatch(/^progress, 4 updates summarised/);
    expect(texts[0]).toContain('h2 [1/8] disable started | h1 [1/8] disable ok 1s | h3 [1/8] disable started');
    expect(texts).toContain('o1'); // a single progress line in another room is left alone
    expect(box.summarised).toBe(4);
  });

  it('merges an older summary with new progress when the backlog grows again', () => {
    const box = new IrcOutbox({ split, threshold: 3 });
    for (let i = 0; i < 5; i++) box.push([line(`a${i}`, { host: `h${i % 2}`, state: `s${i}` })]);
    for (let i = 5; i < 9; i++) box.push([line(`a${i}`, { host: `h${i % 3}`, state: `s${i}` })]);
    const all = box.all();
    const head = all[0]!;
    // Folded at the 4th and the 7th line; the last two wait below the threshold, verbatim.
    expect(head.summary?.updates).toBe(7);
    expect([...head.summary!.states]).toEqual([
      ['h1', 's3'],
      ['h2', 's5'],
      ['h0', 's6'],
    ]);
    expect(all.slice(1).map((l) => l.text)).toEqual(['a7', 'a8']);
  });

  it('expires lines the server never echoed', () => {
    const box = new IrcOutbox({ split });
    box.push([line('x')]);
    box.take(1000);
    expect(box.expire(2000, 30_000)).toEqual([]);
    expect(box.expire(40_000, 30_000).map((l) => l.text)).toEqual(['x']);
    expect(box.unconfirmed).toBe(0);
  });
});

describe('LinePacer', () => {
  it('lets a burst through, then one line per interval', () => {
    let t = 0;
    const p = new LinePacer({ burst: 3, perSecond: 2, now: () => t });
    expect([p.tryTake(), p.tryTake(), p.tryTake(), p.tryTake()]).toEqual([true, true, true, false]);
    expect(p.waitMs()).toBe(500);
    t += 499;
    expect(p.tryTake()).toBe(false);
    t += 1;
    expect(p.tryTake()).toBe(true);
    t += 60_000; // a long quiet time refills only up to the burst
    expect([p.tryTake(), p.tryTake(), p.tryTake(), p.tryTake()]).toEqual([true, true, true, false]);
  });
});
