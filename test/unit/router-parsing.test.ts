import { describe, expect, it } from 'vitest';
import { cleanLine, commandText, MAX_LINE, tokenize } from '../../src/chat/router';
import type { ChatMessage } from '../../src/chat/chat-adapter';

const msg = (text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  origin: { adapter: 'irc', room: '#builders' },
  user: { source: 'irc', id: 'kevin', display: 'kevin' },
  text,
  ...extra,
});

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['reinstall buildarm-03', ['reinstall', 'buildarm-03']],
    ['  reinstall   a  b ', ['reinstall', 'a', 'b']],
    ['deny buildarm-03 "disk is failing"', ['deny', 'buildarm-03', 'disk is failing']],
    ["reinstall a --reason 'kernel 6.9 rollout'", ['reinstall', 'a', '--reason', 'kernel 6.9 rollout']],
    ['reinstall a --reason="two words"', ['reinstall', 'a', '--reason=two words']],
    ['deny a ""', ['deny', 'a', '']],
    ['x "it\'s fine"', ['x', "it's fine"]],
    ['', []],
  ])('%j -> %j', (input, words) => {
    expect(tokenize(input)).toEqual(words);
  });

  it('refuses an unterminated quote', () => {
    expect(() => tokenize('deny a "oops')).toThrow(/unterminated " quote/);
  });
});

describe('commandText: which lines are meant for rekick', () => {
  it.each<[string, Partial<ChatMessage>, string | undefined]>([
    ['!status', {}, 'status'],
    ['  !reinstall a', {}, 'reinstall a'],
    ['rekick: status', {}, 'status'],
    ['Rekick, queue', {}, 'queue'],
    ['rekick: !queue', {}, 'queue'],
    ['@rekick: hosts', {}, 'hosts'],
    ['status please', {}, undefined],
    ['rekicker: status', {}, undefined],
    ['status', { origin: { adapter: 'irc', room: 'kevin', private: true } }, 'status'],
    ['!status', { origin: { adapter: 'irc', room: 'kevin', private: true } }, 'status'],
    ['reinstall a', { isSlashCommand: true }, 'reinstall a'],
  ])('%j %j -> %j', (text, extra, expected) => {
    expect(commandText(msg(text, extra), 'rekick')).toBe(expected);
  });
});

describe('cleanLine', () => {
  it('drops IRC formatting codes (bold, colours, reset, italics)', () => {
    expect(cleanLine('!reinstall \x02buildarm-03\x02')).toBe('!reinstall buildarm-03');
    expect(cleanLine('!status \x0304,12buildarm-03\x0f')).toBe('!status buildarm-03');
    expect(cleanLine('\x1d!queue\x1d')).toBe('!queue');
  });

  it.each([
    ['NUL', '!reinstall buildarm-03\x00'],
    ['bell', '!reinstall build\x07arm-03'],
    ['newline', '!reinstall a\nPRIVMSG #x :hi'],
    ['escape', '!status \x1b[31m'],
    ['zero-width space', '!reinstall build\u200barm-03'],
    ['bidi override', '!reinstall \u202ebuildarm-03'],
  ])('refuses %s', (_name, line) => {
    expect(() => cleanLine(line)).toThrow(/control or invisible characters/);
  });

  it('refuses a line longer than the cap without echoing it', () => {
    const long = `!reinstall ${'a'.repeat(MAX_LINE)}`;
    expect(() => cleanLine(long)).toThrow(/line too long/);
    try {
      cleanLine(long);
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(120);
    }
  });
});
