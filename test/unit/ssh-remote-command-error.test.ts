/** A failed remote command: its message names its last line on stderr; a command that ended is told as the right failure. */
import { describe, expect, it } from 'vitest';
import { RemoteCommandError } from '../../src/ssh/errors';
import { commandFailure } from '../../src/ssh/running-command';

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

describe('commandFailure: what a command that ended is told as', () => {
  const run = { host: 'h', shown: 'sleep 9', timeoutMs: 2000 };
  const result = { code: 1, stdout: '', stderr: '', tail: ['x'] };

  it('killed at its timeout or by an abort, whatever its exit', () => {
    expect(commandFailure(run, { killedBy: 'timeout', exited: true }, result)).toMatchObject({ code: 'E_REMOTE_TIMEOUT', outputTail: ['x'] });
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    expect(commandFailure({ ...run, signal: ac.signal }, { killedBy: 'abort', exited: false }, result)).toMatchObject({ message: 'cancelled' });
  });

  it('a lost connection or a non-zero exit fails it unless failure is allowed; exit 0 succeeds', () => {
    expect(commandFailure(run, { exited: false }, result)).toMatchObject({ code: 'E_SSH_CONNECT', message: 'cannot reach h over SSH: the connection was lost while `sleep 9` ran' });
    expect(commandFailure(run, { exited: true }, result)).toBeInstanceOf(RemoteCommandError);
    expect(commandFailure({ ...run, allowFailure: true }, { exited: false }, result)).toBeUndefined();
    expect(commandFailure({ ...run, allowFailure: true }, { exited: true }, result)).toBeUndefined();
    expect(commandFailure(run, { exited: true }, { ...result, code: 0 })).toBeUndefined();
  });
});
