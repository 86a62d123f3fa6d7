/** Typed errors of the SSH layer: each names the host and says what an operator can do. */
import { CodedError, StepError } from '../errors';
import type { ExecResult } from './types';

/** A remote command exited non-zero or was killed by a signal. */
export class RemoteCommandError extends StepError {
  readonly host: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly exitSignal?: string;
  /**
   * The message names the command's last line on stderr (where commands say what went wrong), else its last line:
   * stdout and stderr reach rekick as two streams, so which of them ended the tail is a matter of timing.
   */
  constructor(host: string, command: string, result: Pick<ExecResult, 'code' | 'signal' | 'tail' | 'stderr'>) {
    const { code: exitCode, signal: exitSignal, tail } = result;
    const how = exitSignal ? `was killed by signal ${exitSignal}` : `exited with code ${exitCode}`;
    const headline = lastLine(result.stderr) ?? tail[tail.length - 1];
    const last = headline !== undefined ? `: ${headline}` : ' (no output)';
    super('E_REMOTE_COMMAND', `\`${command}\` on ${host} ${how}${last}`, { retryable: false, outputTail: tail });
    this.host = host;
    this.command = command;
    this.exitCode = exitCode;
    this.exitSignal = exitSignal;
  }
}

/** A remote command ran past its timeout and was killed. */
export class RemoteTimeoutError extends StepError {
  constructor(host: string, command: string, timeoutMs: number, tail: string[]) {
    super(
      'E_REMOTE_TIMEOUT',
      `\`${command}\` on ${host} ran longer than ${Math.round(timeoutMs / 100) / 10}s and was killed; check what it waits for on the host`,
      { retryable: false, outputTail: tail },
    );
  }
}

/** No SSH session could be set up (refused, unreachable, timed out, lost). Worth retrying. */
export class SshConnectError extends StepError {
  constructor(host: string, detail: string, options: { cause?: unknown } = {}) {
    super('E_SSH_CONNECT', `cannot reach ${host} over SSH: ${detail}`, { retryable: true, cause: options.cause });
  }
}

/** The host refused rekick's key. */
export class SshAuthError extends StepError {
  constructor(host: string, user: string) {
    super(
      'E_SSH_AUTH',
      `${host} refused rekick's SSH key for user ${user}: add rekick's public key to ${user}'s authorized_keys there (the kickstart should install it)`,
      { retryable: false },
    );
  }
}

/** The host presented a key other than the one in known_hosts, and the policy does not allow accepting it now. */
export class HostKeyChangedError extends StepError {
  readonly expected: string[];
  readonly presented: string;
  constructor(host: string, expected: string[], presented: string, knownHostsPath: string) {
    super(
      'E_HOST_KEY_CHANGED',
      `host key of ${host} changed: known_hosts has ${expected.join(', ')}, the host presented ${presented}. ` +
        `If the host was reinstalled outside rekick, check the new key and run \`ssh-keygen -R ${host} -f ${knownHostsPath}\`, ` +
        `or reinstall it through rekick (!reinstall ${host}); otherwise treat it as a possible attack`,
      { retryable: false },
    );
    this.expected = expected;
    this.presented = presented;
  }
}

/**
 * The host presented a key other than the one the job pinned: the key it came back with after the reinstall
 * (accepted or found in wait-ssh). From post-install on, a job trusts that key only, whatever known_hosts says.
 */
export class HostKeyPinnedError extends StepError {
  readonly pinned: string;
  readonly presented: string;
  constructor(host: string, pinned: string, presented: string) {
    super(
      'E_HOST_KEY_PINNED',
      `${host} presented host key ${presented}, not ${pinned}, the key it came back with after the reinstall: ` +
        `its key changed after wait-ssh, so something else may be answering at its address; nothing was sent to it. ` +
        `Check the host; a new !reinstall ${host} starts over`,
      { retryable: false },
    );
    this.pinned = pinned;
    this.presented = presented;
  }
}

/** The host is not in known_hosts and the policy is strict. */
export class HostKeyUnknownError extends StepError {
  readonly presented: string;
  constructor(host: string, presented: string, knownHostsPath: string) {
    super(
      'E_HOST_KEY_UNKNOWN',
      `${host} is not in ${knownHostsPath} (it presented ${presented}): add its key (ssh-keyscan, checked against the console), ` +
        `or let rekick record it by reinstalling the host with hostKeyPolicy accept-new-after-reinstall`,
      { retryable: false },
    );
    this.presented = presented;
  }
}

/** known_hosts lists the presented key as @revoked. */
export class HostKeyRevokedError extends StepError {
  constructor(host: string, presented: string, knownHostsPath: string) {
    super('E_HOST_KEY_REVOKED', `${host} presented ${presented}, which ${knownHostsPath} marks @revoked: refusing to connect`, {
      retryable: false,
    });
  }
}

/** The last line of some output that is not blank, or undefined. */
function lastLine(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1];
}

/** One login attempt of wait-ssh took longer than a probe may: the host is not up yet. */
export class LoginAttemptTimeout extends CodedError {
  constructor() {
    super('E_SSH_CONNECT', 'the SSH login attempt did not finish in time');
  }
}

/** A connector error about the host key (changed, unknown, revoked, not the pinned one). */
export function isHostKeyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('E_HOST_KEY');
}
