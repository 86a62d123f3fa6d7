import { describe, expect, it } from 'vitest';
import { consoleCommandLine } from '../../src/chat/console';
import { ircCommandLine } from '../../src/chat/irc/addressing';
import { cleanLine, commandOf, MAX_LINE, tokenize } from '../../src/chat/router-line';
import { mentionCommand, messageCommand, slashCommand } from '../../src/chat/slack/addressing';

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

describe('which lines are meant for rekick: each adapter decides, the router reads the command', () => {
  const read = (line: string | undefined) => (line === undefined ? undefined : commandOf(line));
  const frontDoors = {
    irc: (text: string, priv: boolean) => read(ircCommandLine(text, ['rekick'], priv)),
    console: (text: string) => read(consoleCommandLine(text, 'rekick')),
    'slack message': (text: string, priv: boolean) => read(messageCommand(text, priv)),
    'slack slash': (text: string) => read(slashCommand(text)),
  };
  it.each<[keyof typeof frontDoors, string, boolean, string | undefined]>([
    ['irc', '!status', false, 'status'],
    ['console', '!status', false, 'status'],
    ['irc', '  !reinstall a', false, 'reinstall a'],
    ['console', '  !reinstall a', false, 'reinstall a'],
    ['irc', 'rekick: status', false, 'status'],
    ['console', 'rekick: status', false, 'status'],
    ['irc', 'Rekick, queue', false, 'queue'],
    ['console', 'Rekick, queue', false, 'queue'],
    ['irc', 'rekick: !queue', false, 'queue'],
    ['console', 'rekick: !queue', false, 'queue'],
    ['console', '@rekick: hosts', false, 'hosts'],
    ['irc', '@rekick: hosts', false, undefined],
    ['irc', 'status please', false, undefined],
    ['console', 'status please', false, undefined],
    ['irc', 'rekicker: status', false, undefined],
    ['console', 'rekicker: status', false, undefined],
    ['irc', 'status', true, 'status'],
    ['irc', '!status', true, 'status'],
    ['slack message', 'status', true, 'status'],
    ['slack message', '!status', true, 'status'],
    ['slack message', 'status', false, undefined],
    ['slack slash', 'reinstall a', false, 'reinstall a'],
  ])('%s: %j (private %s) -> %j', (door, text, priv, expected) => {
    expect(frontDoors[door](text, priv)).toBe(expected);
  });

  it('IRC formatting is dropped by the IRC adapter before the router sees the line', () => {
    expect(ircCommandLine('!reinstall \x02buildarm-03\x02', ['rekick'], false)).toBe('!reinstall buildarm-03');
    expect(ircCommandLine('!status \x0304,12buildarm-03\x0f', ['rekick'], false)).toBe('!status buildarm-03');
    expect(ircCommandLine('!\x1dqueue\x1d', ['rekick'], false)).toBe('!queue');
    // Addressing is decided on the line as typed: formatting before the `!` is not a command in a channel.
    expect(ircCommandLine('\x1d!queue\x1d', ['rekick'], false)).toBeUndefined();
  });

  it('IRC formatting is dropped from Slack and console lines too (the router dropped it from every line), not refused', () => {
    expect(messageCommand('!reinstall \x02buildarm-03\x02', false)).toBe('!reinstall buildarm-03');
    expect(messageCommand('status \x0304,12buildarm-03\x0f', true)).toBe('!status buildarm-03');
    expect(mentionCommand('<@U123> \x1dqueue\x1d')).toBe('!queue');
    expect(slashCommand('status \x02buildarm-03\x02')).toBe('!status buildarm-03');
    expect(consoleCommandLine('!status \x02buildarm-03\x02', 'rekick')).toBe('!status buildarm-03');
    // The console decided on the line without its formatting (the router did it for the console's lines).
    expect(consoleCommandLine('\x02!queue\x02', 'rekick')).toBe('!queue');
    expect(() => cleanLine(commandOf(messageCommand('!status \x02a\x02', false)!))).not.toThrow();
  });
});

describe('cleanLine', () => {
  it('keeps plain text (tabs become spaces)', () => {
    expect(cleanLine('!reinstall buildarm-03')).toBe('!reinstall buildarm-03');
    expect(cleanLine('!status\tbuildarm-03')).toBe('!status buildarm-03');
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
