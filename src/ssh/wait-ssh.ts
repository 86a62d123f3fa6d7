/**
 * Waiting for a host's SSH to come back (steps 5 and 7) or to go away (bare-metal reinstall, reboot). Polls with
 * a backoff capped at 1 s (and TCP probes bounded by the connector), so a returned host is noticed within 2 s.
 * "Up" means a completed handshake with an acceptable key and a login, not merely an open port.
 */
import { abortReason, CodedError, StepTimeoutError } from '../errors';
import { abortableSleep as sleep } from '../util/sleep';
import { readBootId } from './boot-id';
import { SshAuthError } from './errors';
import type { ConnectOptions, HostKeyMode, HostTarget, ProbeResult, RemoteConnector } from './types';

export interface WaitForSshOptions {
  hostKeyMode: HostKeyMode;
  /** The one key the host may present (ConnectOptions.pin). */
  pin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  onKeyChanged?: ConnectOptions['onKeyChanged'];
  /** Longest pause between two probes. Default 1000 ms. */
  maxIntervalMs?: number;
  /** Longest a single handshake attempt may take. Default 10 s. */
  probeTimeoutMs?: number;
  /**
   * What the timeout error names as not finished. Default `waiting for SSH on HOST`. The wait-ssh step passes
   * the executor's own wording (`wait-ssh on HOST`), so the failure reads the same whichever timer fires first.
   */
  what?: string;
  /** Hand the login connection on (`close({ keep: true })`): the caller's next step uses the host at once. */
  keepConnection?: boolean;
}

export type WaitState = ProbeResult | 'login-refused';

const STATE_TEXT: Record<WaitState, string> = {
  down: 'down (no TCP connection)',
  'port-open': 'port open, no SSH handshake yet',
  handshake: 'SSH handshake done',
  'key-mismatch': 'presenting a host key that is not acceptable',
  'login-refused': 'SSH handshake done, but the login failed',
};

export function describeWaitState(state: WaitState, target: HostTarget): string {
  return `${target.name}: ${STATE_TEXT[state]}`;
}

/**
 * Resolves once the host completes a handshake with an acceptable key and rekick can log in (a changed key
 * accepted under `accept-changed` is recorded and reported through `onKeyChanged` on that login). A key that
 * is not acceptable fails at once with the connector's typed error (it names both fingerprints).
 */
export async function waitForSsh(connector: RemoteConnector, target: HostTarget, options: WaitForSshOptions): Promise<void> {
  const { signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  const maxInterval = options.maxIntervalMs ?? 1000;
  let interval = 100;
  let last: WaitState | undefined;
  const report = (state: WaitState) => {
    if (state !== last) options.onProgress?.(describeWaitState(state, target));
    last = state;
  };
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    // A TCP probe first (cheap while the host is down); once the port is open, the login is the probe: one SSH
    // handshake per look instead of a handshake to see and another to log in.
    const probeTimeoutMs = Math.min(remaining, options.probeTimeoutMs ?? 10_000);
    let now: WaitState = await connector.probe(target, { hostKeyMode: options.hostKeyMode, signal, timeoutMs: probeTimeoutMs, depth: 'tcp' });
    if (now !== 'down') {
      const attempt = new AbortController();
      const onAbort = () => attempt.abort(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => attempt.abort(new LoginAttemptTimeout()), Math.max(probeTimeoutMs, 200));
      try {
        // Records an accepted new key, or throws the typed host key error.
        const remote = await connector.connect(target, {
          hostKeyMode: options.hostKeyMode,
          pin: options.pin,
          signal: attempt.signal,
          onKeyChanged: options.onKeyChanged,
        });
        await remote.close({ keep: options.keepConnection });
        report('handshake');
        return;
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (isHostKeyError(err)) throw err;
        now = err instanceof SshAuthError ? 'login-refused' : 'port-open';
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    }
    if (now !== last) interval = 100; // something changed: look again soon
    report(now);
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), signal);
    interval = Math.min(interval * 2, maxInterval);
  }
  throw new StepTimeoutError(options.what ?? `waiting for SSH on ${target.name}`, options.timeoutMs, {
    lastState: STATE_TEXT[last ?? 'down'],
  });
}

export interface WaitForSshGoneOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Pause before each look, the first included. Default 250 ms. */
  intervalMs?: number;
  /**
   * The boot id before the reboot: a host that answers with another one has rebooted already, so the wait ends
   * even when no probe saw it down.
   */
  bootId?: string;
  /** The one key the host may present (ConnectOptions.pin): another key counts as gone, as under strict. */
  pin?: string;
}

/**
 * Resolves once the host no longer completes a handshake with its known key (it went down for a reboot), or, given
 * the boot id from before, once it answers from another boot.
 *
 * Given the boot id, each look is one login that reads it (one SSH handshake per look): refused, reset or timed out
 * means gone, another key means gone (an installer or a new install), the old boot means still there. Without one,
 * each look is a handshake without a login.
 */
export async function waitForSshGone(connector: RemoteConnector, target: HostTarget, options: WaitForSshGoneOptions): Promise<WaitState> {
  const { signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    // Each look comes an interval after the last, the first too: a host that has just acknowledged the reboot is
    // still up, and a look then is a whole login that only reads the old boot id (or a handshake the host cuts).
    await sleep(Math.min(options.intervalMs ?? 250, Math.max(0, deadline - Date.now())), signal);
    if (signal?.aborted) throw abortReason(signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const timeoutMs = Math.min(remaining, 5000);
    const look: Look = options.bootId
      ? await lookForNewBoot(connector, target, options.bootId, timeoutMs, signal, options.pin)
      : { state: await connector.probe(target, { hostKeyMode: 'strict', pin: options.pin, signal, timeoutMs }) };
    if (look.state !== 'handshake') {
      // 'port-open' here is a look whose connection dropped before the login: the host is on its way down.
      const seen = look.state === 'port-open' ? `${target.name}: the connection dropped before a login` : describeWaitState(look.state, target);
      options.onProgress?.(`${seen}: SSH has gone away`);
      return look.state;
    }
    if (look.newBoot) {
      options.onProgress?.(`${target.name}: back already, from a new boot`);
      return look.state;
    }
  }
  throw new StepTimeoutError(`waiting for SSH on ${target.name} to go away (it still answers with its old key)`, options.timeoutMs);
}

interface Look {
  state: ProbeResult;
  /** The host answered from a boot other than the one before the reboot. */
  newBoot?: boolean;
}

/** Errors of a TCP connection that never opened: the host (or its sshd) is down, not half-way through a handshake. */
const NO_CONNECTION = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT']);

/** One look at a rebooting host: a strict login that reads the boot id. */
async function lookForNewBoot(
  connector: RemoteConnector,
  target: HostTarget,
  bootId: string,
  timeoutMs: number,
  signal?: AbortSignal,
  pin?: string,
): Promise<Look> {
  const attempt = new AbortController();
  const onAbort = () => attempt.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => attempt.abort(new LoginAttemptTimeout()), Math.max(timeoutMs, 200));
  try {
    let remote;
    try {
      remote = await connector.connect(target, { hostKeyMode: 'strict', pin, signal: attempt.signal });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (isHostKeyError(err)) return { state: 'key-mismatch' };
      // The old key and a refused login: still the host as it was (the next look may see it go).
      if (err instanceof SshAuthError) return { state: 'handshake' };
      const code = ((err as { cause?: { code?: unknown } }).cause?.code ?? '') as string;
      return { state: NO_CONNECTION.has(code) ? 'down' : 'port-open' };
    }
    try {
      const now = await readBootId(remote, attempt.signal);
      return { state: 'handshake', newBoot: now !== undefined && now !== bootId };
    } catch {
      if (signal?.aborted) throw abortReason(signal);
      return { state: 'handshake' }; // the connection dropped under the command: the reboot is under way, the next look sees it
    } finally {
      await remote.close();
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** One login attempt of wait-ssh took longer than a probe may: the host is not up yet. */
class LoginAttemptTimeout extends CodedError {
  constructor() {
    super('E_SSH_CONNECT', 'the SSH login attempt did not finish in time');
  }
}

function isHostKeyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('E_HOST_KEY');
}
