/** A failed remote command's message names its last line on stderr, whichever stream's line came last. */
import { describe, expect, it } from 'vitest';
import { RemoteCommandError } from '../../src/ssh/errors';

describe('RemoteCommandError', () => {
  it('names the last stderr line, even when a stdout line arrived after it', () => {
    const e = new RemoteCommandError('buildarm-01', 'kojid --check', { code: 4, tail: ['kojid: unknown user builder', 'checking builder user'], stderr: 'kojid: unknown user builder\n\n' });
    expect(e.message).toBe('`kojid --check` on buildarm-01 exited with code 4: kojid: unknown user builder');
    expect(e.outputTail).toEqual(['kojid: unknown user builder', 'checking builder user']);
  });

  it('names the last line when the command wrote nothing to stderr, and says when there was no output', () => {
    expect(new RemoteCommandError('h', 'false', { code: 1, tail: ['one', 'two'], stderr: '' }).message).toBe('`false` on h exited with code 1: two');
    expect(new RemoteCommandError('h', 'false', { code: 1, tail: [], stderr: ' \n' }).message).toBe('`false` on h exited with code 1 (no output)');
    expect(new RemoteCommandError('h', 'sleep 9', { code: null, signal: 'KILL', tail: ['x'], stderr: 'Killed\n' }).message).toBe('`sleep 9` on h was killed by signal KILL: Killed');
  });
});
