/**
 * Reboots a host over SSH (`systemctl reboot`) and returns once it has gone down, or has already come back from a
 * new boot (its boot id changed: a reboot faster than the probes, or a probe delayed on a busy rekick).
 */
import { readBootId } from './boot-id';
import { RemoteCommandError } from './errors';
import { waitForSshGone } from './wait-ssh-gone';
import type { HostTarget, RemoteConnector } from './types';

export interface RebootOptions {
  signal?: AbortSignal;
  /** Bound for issuing the reboot and for SSH to go away. */
  timeoutMs: number;
  onProgress?: (message: string) => void;
  onLine?: (line: string) => void;
  /** Called with the boot id the host runs now (undefined: none readable) before the reboot is issued. */
  beforeReboot?: (bootId: string | undefined) => Promise<void>;
  /** The one key the host may present (ConnectOptions.pin), for the login that reboots it and the looks after. */
  pin?: string;
}

export async function rebootHost(connector: RemoteConnector, target: HostTarget, options: RebootOptions): Promise<void> {
  const started = Date.now();
  const remote = await connector.connect(target, { hostKeyMode: 'strict', pin: options.pin, signal: options.signal });
  let bootId: string | undefined;
  try {
    bootId = await readBootId(remote, options.signal);
    await options.beforeReboot?.(bootId);
    // The connection may drop before the exit status arrives: that is the reboot working.
    const result = await remote.exec('systemctl reboot', {
      allowFailure: true,
      signal: options.signal,
      timeoutMs: Math.min(60_000, options.timeoutMs),
      onLine: options.onLine ? (l) => options.onLine!(l) : undefined,
    });
    if (result.code !== null && result.code !== 0) {
      throw new RemoteCommandError(target.name, 'systemctl reboot', result);
    }
  } finally {
    await remote.close();
  }
  await waitForSshGone(connector, target, {
    timeoutMs: Math.max(1000, options.timeoutMs - (Date.now() - started)),
    signal: options.signal,
    onProgress: options.onProgress,
    bootId,
    pin: options.pin,
  });
}
