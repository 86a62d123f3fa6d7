/**
 * Waiting for a host's SSH to come back (steps 5 and 7; going away is wait-ssh-gone.ts). Polls with
 * a backoff capped at 1 s (and TCP probes bounded by the connector), so a returned host is noticed within 2 s.
 * "Up" means a completed handshake with an acceptable key and a login, not merely an open port.
 */
import { abortReason, StepTimeoutError } from '../errors';
import { abortableSleep as sleep } from '../util/sleep';
import { isHostKeyError, LoginAttemptTimeout, SshAuthError } from './errors';
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
