/**
 * Waiting for a host's SSH to go away (bare-metal reinstall, reboot): a handshake with its known key, or a login
 * that reads the boot id, until it stops answering or answers from another boot.
 */
import { abortReason, StepTimeoutError } from '../errors';
import { abortableSleep as sleep } from '../util/sleep';
import { readBootId } from './boot-id';
import { isHostKeyError, LoginAttemptTimeout, SshAuthError } from './errors';
import type { HostTarget, ProbeResult, RemoteConnector } from './types';
import { describeWaitState, type WaitState } from './wait-ssh';

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
