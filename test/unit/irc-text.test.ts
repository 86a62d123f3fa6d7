/** IRC text: control characters out, UTF-8-safe splitting within the 512-byte line, addressing of lines. */
import { describe, expect, it } from 'vitest';
import { commandFromLine } from '../../src/chat/irc/addressing';
import { cleanIrcText, ircLines, privmsgBudget, splitUtf8 } from '../../src/chat/irc/text';

const wire = (nick: string, target: string, text: string) =>
  Buffer.byteLength(`:${nick}!${'~'.padEnd(10, 'u')}@${'h'.repeat(63)} PRIVMSG ${target} :${text}\r\n`);

describe('splitUtf8', () => {
  it('never cuts inside a multi-byte character and keeps every character', () => {
    const line = 'é€😀'.repeat(200); // 2, 3 and 4 byte characters (the emoji is a surrogate pair)
    for (const max of [4, 5, 7, 50, 401]) {
      const pieces = splitUtf8(line, max);
      for (const p of pieces) {
        expect(Buffer.byteLength(p)).toBeLessThanOrEqual(max);
        // A cut inside a character would leave a lone surrogate or U+FFFD after a round trip.
        expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p);
        expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }
      expect(pieces.join('')).toBe(line);
    }
  });

  it('prefers a space near the end of a piece', () => {
    const pieces = splitUtf8('aaaa bbbb cccc dddd', 12);
    expect(pieces).toEqual(['aaaa bbbb', 'cccc dddd']);
  });

  it('leaves a short line alone', () => {
    expect(splitUtf8('short', 100)).toEqual(['short']);
  });
});

describe('ircLines', () => {
  it('fits every line, prefix included, in 512 bytes', () => {
    const text = `${'buildarm-03 [4/8] reinstall failed: '}${'ünïcödé '.repeat(150)}`;
    const lines = ircLines(text, 'rekick', '#builders');
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(wire('rekick', '#builders', l)).toBeLessThanOrEqual(512);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toBe(text.trim().replace(/\s+/g, ' '));
  });

  it('makes each text line its own IRC line and strips CR/LF injection and CTCP', () => {
    const lines = ircLines('first\r\nQUIT :bye\rthird\n\x01ACTION hi\x01\x00', 'rekick', '#b');
    expect(lines).toEqual(['first', 'QUIT :bye', 'third', 'ACTION hi']);
    for (const l of lines) expect(l).not.toMatch(/[\r\n\x00\x01]/);
  });

  it('budget shrinks with a longer nick and target', () => {
    expect(privmsgBudget('rekick', '#a')).toBeGreaterThan(privmsgBudget('rekick-long-nick', '#a-much-longer-channel'));
    expect(cleanIrcText('a\tb\x7fc\x9bd')).toBe('a bcd');
  });
});

describe('commandFromLine', () => {
  it.each([
    ['!status', false, '!status'],
    ['rekick: status buildarm-01', false, '!status buildarm-01'],
    ['Rekick, !queue', false, '!queue'],
    ['rekick:', false, undefined],
    ['hello rekick: status', false, undefined],
    ['just chatting', false, undefined],
    ['help', true, '!help'],
    ['!help', true, '!help'],
    ['rekicker: status', false, undefined],
  ])('%j (private %s) -> %j', (text, priv, expected) => {
    expect(commandFromLine(text, 'rekick', priv)).toBe(expected);
  });
});
