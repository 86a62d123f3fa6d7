/**
 * The installed system's machine id (`/etc/machine-id`, 32 hex digits, made once per install): with the host key,
 * how rekick tells a freshly installed system from the old one coming back (`cat /etc/machine-id`;
 * docs/operator-guide.md, "Proof of reinstall").
 */
import type { RemoteHost } from './types';

export const MACHINE_ID_PATH = '/etc/machine-id';
const MACHINE_ID = /^[0-9a-f]{32}$/i;

/** The host's machine id, or undefined when there is none that can be read (missing, empty, "uninitialized"). */
export async function readMachineId(remote: RemoteHost, signal?: AbortSignal): Promise<string | undefined> {
  const result = await remote.exec(`cat ${MACHINE_ID_PATH}`, { allowFailure: true, signal, timeoutMs: 30_000 });
  const id = result.stdout.trim();
  return result.code === 0 && MACHINE_ID.test(id) ? id.toLowerCase() : undefined;
}
