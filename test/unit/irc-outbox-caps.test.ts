/**
 * The IRC outbox under a flood: urgent lines (failures, approval prompts) go ahead of waiting replies and
 * progress (after their own host's progress) and are never dropped by the reply cap; replies are capped per
 * target and in total, with one "… N more lines dropped" line per target; whatever is pushed, the replies
 * waiting stay within the caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrcOutbox, type OutboxLine } from '../../src/chat/irc/outbox';

const split = (text: string) => [text];
const reply = (target: string, n: number, tag = 'r'): OutboxLine[] => Array.from({ length: n }, (_, i) => ({ target, text: `${tag}${i}`, reply: true }));
const urgent = (target: string, text: string, host?: string): OutboxLine[] => [{ target, text, urgent: true, host }];
const progress = (target: string, host: string, state: string): OutboxLine[] => [{ target, text: `${host} ${state}`, progress: { host, state } }];
const drain = (box: IrcOutbox) => {
  const out: string[] = [];
  for (let l = box.take(0); l; l = box.take(0)) {
    out.push(l.text);
    box.confirmWritten(l);
  }
  return out;
};

describe('IrcOutbox priorities', () => {
  it('a failure pushed after 30 reply lines and progress goes next, after its own host’s waiting progress', () => {
    const box = new IrcOutbox({ split, threshold: 100 });
    box.push(reply('#b', 30));
    box.push(progress('#b', 'h1', '[1/8] disable started'));
    box.push(progress('#b', 'h2', '[1/8] disable started'));
    box.push(progress('#b', 'h1', '[1/8] disable ok'));
    box.push(urgent('#b', 'h1 [2/8] drain failed: …', 'h1'));
    box.push(urgent('#other', 'h9 is ready: !approve h9', 'h9'));
    const order = drain(box);
    expect(order.slice(0, 4)).toEqual(['h1 [1/8] disable started', 'h1 [1/8] disable ok', 'h1 [2/8] drain failed: …', 'h9 is ready: !approve h9']);
    expect(order.slice(4, 34)).toEqual(reply('#b', 30).map((l) => l.text));
    expect(order.slice(34)).toEqual(['h2 [1/8] disable started']);
  });

  it('a failure of a host named in a waiting summary: its verbatim progress goes ahead with it, and the summary takes its new state', () => {
    const box = new IrcOutbox({ split, threshold: 3 });
    box.push(reply('#b', 1));
    for (const h of ['h1', 'h2', 'h3']) box.push(progress('#b', h, '[1/8] disable started'));
    box.push(progress('#b', 'h1', '[2/8] drain ok 1s'));
    expect(box.all().map((l) => l.text)).toEqual([
      'r0',
      'progress, 3 updates summarised (latest per host, 3 hosts): h1 [1/8] disable started | h2 [1/8] disable started | h3 [1/8] disable started',
      'h1 [2/8] drain ok 1s',
    ]);
    box.push([{ target: '#b', text: 'h1 [3/8] stage-installer failed: x', urgent: true, host: 'h1', state: '[3/8] stage-installer failed' }]);
    box.push([{ target: '#b', text: 'h2 is ready: !approve h2', urgent: true, host: 'h2', state: 'ready, waiting for approval' }]);
    box.push(urgent('#b', 'h9 is ready', 'h9'));
    expect(drain(box)).toEqual([
      'h1 [2/8] drain ok 1s',
      'h1 [3/8] stage-installer failed: x',
      'h2 is ready: !approve h2',
      'h9 is ready',
      'r0',
      'progress, 3 updates summarised (latest per host, 3 hosts): h3 [1/8] disable started | h1 [3/8] stage-installer failed | h2 ready, waiting for approval',
    ]);
  });

  it('after a dropped connection, unconfirmed urgent lines go out first again', () => {
    const box = new IrcOutbox({ split });
    box.push(reply('#b', 2));
    box.push(urgent('#b', 'u1'));
    expect(box.take(0)!.text).toBe('u1');
    expect(box.take(0)!.text).toBe('r0');
    box.push(urgent('#b', 'u2'));
    box.requeue();
    expect(drain(box)).toEqual(['u1', 'u2', 'r0', 'r1']);
  });
});

describe('IrcOutbox caps', () => {
  it('a 500-line reply keeps 29 lines and one "… 471 more lines dropped"; later replies to the target grow that count', () => {
    const box = new IrcOutbox({ split, maxRepliesPerTarget: 30, maxReplies: 120 });
    box.push(reply('#b', 500));
    expect(box.waiting).toBe(30);
    expect(box.all().at(-1)!.text).toBe('… 471 more lines dropped: too much output waiting for IRC');
    expect(box.dropped).toBe(471);
    box.push(reply('#b', 5, 'x'));
    expect(box.waiting).toBe(30);
    expect(box.all().at(-1)!.text).toBe('… 476 more lines dropped: too much output waiting for IRC');
    // Room again once lines went out: a later reply fits, after the count.
    box.take(0);
    box.take(0);
    box.push(reply('#b', 2, 'y'));
    expect(box.all().slice(-3).map((l) => l.text)).toEqual(['… 476 more lines dropped: too much output waiting for IRC', 'y0', 'y1']);
  });

  it('a reply that just overflows turns the target’s last waiting line into the count', () => {
    const box = new IrcOutbox({ split, maxRepliesPerTarget: 4, maxReplies: 120 });
    box.push(reply('#b', 4));
    box.push(reply('#b', 1, 'x'));
    expect(box.all().map((l) => l.text)).toEqual(['r0', 'r1', 'r2', '… 2 more lines dropped: too much output waiting for IRC']);
    expect(box.dropped).toBe(2);
  });

  it('caps the total over targets; urgent lines are not counted and never dropped by it', () => {
    const box = new IrcOutbox({ split, maxRepliesPerTarget: 30, maxReplies: 120 });
    for (let i = 0; i < 10; i++) box.push(reply(`nick${i}`, 30));
    expect(box.waiting).toBe(120);
    box.push(reply('late', 3));
    expect(box.all().filter((l) => l.target === 'late')).toEqual([]);
    for (let i = 0; i < 100; i++) box.push(urgent('#b', `failure ${i}`));
    expect(box.waiting).toBe(220);
    expect(drain(box).slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `failure ${i}`));
  });

  it('past maxUrgent, urgent lines are counted on one line per target', () => {
    const box = new IrcOutbox({ split, maxUrgent: 10 });
    for (let i = 0; i < 15; i++) box.push(urgent('#b', `u${i}`));
    const texts = box.all().map((l) => l.text);
    expect(texts).toHaveLength(11);
    expect(texts.at(-1)).toBe('… 5 more notice lines dropped: too much output waiting for IRC');
    expect(box.dropped).toBe(5);
  });

  it('whatever is pushed and taken, replies waiting stay within the caps (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reply' as const), target: fc.constantFrom('#a', '#b', 'n1', 'n2', 'n3', 'n4', 'n5'), n: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ kind: fc.constant('progress' as const), host: fc.constantFrom('h1', 'h2', 'h3') }),
      fc.record({ kind: fc.constant('urgent' as const), host: fc.constantFrom('h1', 'h2', 'h3') }),
      fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 10 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const box = new IrcOutbox({ split, threshold: 20, maxRepliesPerTarget: 12, maxReplies: 40 });
        let pushed = 0;
        for (const o of ops) {
          if (o.kind === 'reply') {
            box.push(reply(o.target, o.n));
            pushed += o.n;
          } else if (o.kind === 'progress') box.push(progress('#a', o.host, 'x'));
          else if (o.kind === 'urgent') box.push(urgent('#a', `${o.host} failed`, o.host));
          else for (let i = 0; i < o.n; i++) box.confirmWritten(box.take(0)!);
          const replies = box.all().filter((l) => l.reply);
          if (replies.length > 40) return false;
          for (const t of new Set(replies.map((l) => l.target))) if (replies.filter((l) => l.target === t).length > 12) return false;
          // Every reply line pushed is waiting, was taken, or is counted as dropped.
          if (box.dropped > pushed) return false;
        }
        return true;
      }),
      { numRuns: 300, seed: 20 },
    );
  });
});
