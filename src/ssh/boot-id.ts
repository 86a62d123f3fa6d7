/**
 * The kernel's boot id (`/proc/sys/kernel/random/boot_id`, a new random UUID at every boot): how rekick tells that
 * a host really rebooted, however short its time down was (a probe can miss a fast reboot; the boot id cannot).
 */
import type { RemoteHost } from './types';

export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The host's boot id, or undefined when it has none that can be read (not Linux, no /proc): callers then do without. */
export async function readBootId(remote: RemoteHost, signal?: AbortSignal): Promise<string | undefined> {
  const result = await remote.exec(`cat ${BOOT_ID_PATH}`, { allowFailure: true, signal, timeoutMs: 30_000 });
  const id = result.stdout.trim();
  return result.code === 0 && BOOT_ID.test(id) ? id.toLowerCase() : undefined;
}
